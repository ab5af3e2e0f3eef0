package dev.ferry.internal.transport;

import java.io.IOException;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;

/** Deadlines as {@link System#nanoTime()} values, with {@link #NONE} for "wait forever". */
public final class Deadlines {
  public static final long NONE = Long.MAX_VALUE;

  private Deadlines() {}

  /** The deadline {@code timeout} from now; zero and negative timeouts give "already passed". */
  public static long after(Duration timeout) {
    long now = System.nanoTime();
    if (timeout.isNegative() || timeout.isZero()) return now;
    long nanos;
    try {
      nanos = timeout.toNanos();
    } catch (ArithmeticException e) {
      return NONE;
    }
    long deadline = now + nanos;
    return deadline < now || deadline == NONE ? NONE - 1 : deadline;
  }

  /** Nanoseconds left before {@code deadline}; 0 or less once it passed. */
  public static long remaining(long deadline) {
    return deadline == NONE ? Long.MAX_VALUE : deadline - System.nanoTime();
  }

  /** Milliseconds to pass to {@code Selector.select}: at least 1 while time is left, 0 for none. */
  public static long selectMillis(long deadline) {
    if (deadline == NONE) return 0;
    long nanos = remaining(deadline);
    if (nanos <= 0) return -1;
    return Math.max(1, (nanos + 999_999) / 1_000_000);
  }

  /** The longest single select when waiting without limit; callers loop until ready. */
  static final long SELECT_SLICE_MILLIS = 100;

  /**
   * Selects for up to {@code millis} from {@link #selectMillis}, where 0 means without limit;
   * callers loop, so a return with nothing ready is fine.
   *
   * <p>Never {@code select(0)}: the JDK reads it as "forever", but junixsocket's selector passes
   * the 0 on to poll(2), which returns at once, so a caller looping until ready would spin and
   * starve the peer of a CPU. Nor junixsocket's {@code select()}: a poll(2) without limit missed
   * the peer's close in FramingTest. A bounded slice costs at most one wake-up per slice. The
   * JDK's own selectors keep their "0 is forever".
   */
  public static int select(Selector selector, long millis) throws IOException {
    if (millis == 0 && selector.provider() != JDK_SELECTORS) millis = SELECT_SLICE_MILLIS;
    return selector.select(millis);
  }

  private static final SelectorProvider JDK_SELECTORS =
      SelectorProvider.provider();
}
