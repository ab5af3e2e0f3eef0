package dev.ferry.internal.wait;

import dev.ferry.internal.transport.Deadlines;
import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;

/** The connections of one selector provider in a wait set, registered with one selector. */
final class Group {
  static final SelectorProvider JDK_SELECTORS = SelectorProvider.provider();

  final Selector selector;
  /** Members in the group, guarded by the engine's state lock. */
  int count;
  /** Set by the waiting thread, once; then only the poller selects, registers and sets interest. */
  Poller poller;

  Group(Selector selector) {
    this.selector = selector;
  }

  /**
   * Selects without waiting ({@code millis} negative) or for up to {@code millis} (0: one slice of
   * {@link Deadlines#select}). junixsocket's selector throws a NullPointerException from a select
   * during which another thread cancelled a key (removing or closing a member does): its poll
   * array has a hole, its keys are intact and poll(2) reports readiness again, so that round
   * counts as one that found nothing instead of ending the wait set's polling.
   */
  void select(long millis) throws IOException {
    try {
      if (millis < 0) selector.selectNow(); else Deadlines.select(selector, millis);
    } catch (NullPointerException e) {
      // A round that found nothing: see above.
    }
  }

  /** The JDK's selector: epoll on Linux, whose select costs what is ready. */
  boolean epoll() {
    return selector.provider() == JDK_SELECTORS;
  }

  /**
   * Stops the poller, cancels every key, then closes the selector. junixsocket's selector close
   * does not take its keys off the channels: without the cancel, every set left a dead key on
   * each of its channels, a leak that also made registering slower every time.
   */
  void close() throws IOException {
    if (poller != null) poller.quit();
    for (SelectionKey key : selector.keys()) key.cancel();
    selector.close();
  }
}
