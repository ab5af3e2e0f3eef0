package dev.ferry.internal.memory;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * How many bytes of shared memory this process has mapped and not yet had unmapped. Java 17 unmaps
 * a mapping only once the garbage collector finds its buffer unreachable, and mappings do not
 * fill the heap, so a process that receives many large buffers could pin gigabytes of shared
 * memory that nothing uses any more. As the JDK does for direct buffers, a mapping that would take
 * the total past the limit first asks for a collection and waits, briefly, for what it frees.
 *
 * <p>The limit is 4 GiB unless the system property {@code dev.ferry.maxMappedBytes} says
 * otherwise. Exceeding it is allowed after the wait (a mapping still in use is not an error); it
 * only bounds what unreachable mappings pin.
 */
final class MappedBytes {
  private static final long LIMIT = Long.getLong("dev.ferry.maxMappedBytes", 4L << 30);
  private static final long PATIENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private static final ReferenceQueue<ByteBuffer> QUEUE = new ReferenceQueue<>();
  /** Guarded by the class: the mappings not yet collected, and their bytes. */
  private static final Set<Mapping> LIVE = new HashSet<>();
  private static long liveBytes;
  /**
   * Guarded by the class: the bytes found in use by the last collection for room that freed
   * nothing, 0 once anything has been collected since.
   */
  private static long inUse;

  private MappedBytes() {}

  private static final class Mapping extends PhantomReference<ByteBuffer> {
    final long bytes;

    Mapping(ByteBuffer buffer, long bytes) {
      super(buffer, QUEUE);
      this.bytes = bytes;
    }
  }

  /** Makes room for a mapping of {@code bytes}: a collection if the total would pass the limit. */
  static void reserve(long bytes) {
    reserve(bytes, LIMIT);
  }

  /**
   * As {@link #reserve(long)} with {@code limit}. Once a collection and its wait freed nothing,
   * the mappings then counted are in use: the limit applies above them, until something is
   * collected, instead of every later reservation paying a full collection and the wait (a peer
   * that sends 60 buffers of 2 GiB would else cost a receiver 58 of them, half a minute, per
   * message; a process that keeps 5 GiB of received arrays, half a second per receive).
   */
  static void reserve(long bytes, long limit) {
    long before = drainedTotal();
    synchronized (MappedBytes.class) {
      if (before + bytes <= inUse + limit) return;
    }
    System.gc();
    long deadline = System.nanoTime() + PATIENCE_NANOS;
    while (drainedTotal() + bytes > limit && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    synchronized (MappedBytes.class) {
      if (liveBytes >= before) inUse = liveBytes;
    }
  }

  /** Counts {@code buffer}, a new mapping of {@code bytes}, until it is collected. */
  static synchronized void track(ByteBuffer buffer, long bytes) {
    LIVE.add(new Mapping(buffer, bytes));
    liveBytes += bytes;
  }

  /** Bytes mapped and not yet collected, after taking in what was collected. */
  static synchronized long drainedTotal() {
    Reference<? extends ByteBuffer> ref;
    while ((ref = QUEUE.poll()) != null) {
      if (LIVE.remove(ref)) {
        liveBytes -= ((Mapping) ref).bytes;
        inUse = 0;
      }
    }
    return liveBytes;
  }
}
