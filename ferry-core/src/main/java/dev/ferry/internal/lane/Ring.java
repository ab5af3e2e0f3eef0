package dev.ferry.internal.lane;

import dev.ferry.FramingException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One single-producer/single-consumer byte ring in shared memory (docs/LANE.md sections 3 to 5).
 * This process uses an instance either as the ring's reader or as its writer, never both.
 *
 * <pre>
 *  +0    tail   u64  writer's: bytes ever published
 *  +8    bells  u64  writer's: doorbell bytes it committed to send
 *  +16   closed u32  writer's: 1 after its last publish
 *  +128  head   u64  reader's: bytes ever consumed
 *  +136  armed  u32  reader's: 1 = ring me, 0 = spinning
 *  +256  data, capacity bytes; stream position p at data[p mod capacity]
 * </pre>
 *
 * <p>Everything read from the peer's words is checked: a tail behind the last one seen or more
 * than a ring ahead of our head, or a head that went back or past our tail, is a
 * {@link FramingException}. Indexes into the data area are always our own counter modulo our own
 * capacity, so a hostile peer can make us read wrong bytes, never bytes outside the ring.
 *
 * <p>Not thread-safe: the connection's read lock (reader) or send lock (writer) serializes use.
 */
public final class Ring {
  private static final VarHandle LONG =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle INT =
      MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

  private static final int TAIL = 0;
  private static final int BELLS = 8;
  private static final int CLOSED = 16;
  private static final int HEAD = 128;
  private static final int ARMED = 136;
  private static final int DATA = LaneRegion.CONTROL_SIZE;

  private final ByteBuffer region;
  private final int control;
  private final int data;
  private final int capacity;
  private final int mask;

  /** Reader: our head and the last tail seen. Writer: our tail and the last head seen. */
  private long head;
  private long tail;

  Ring(ByteBuffer region, int control, int capacity) {
    if (Integer.bitCount(capacity) != 1 || control < 0
        || (long) control + DATA + capacity > region.capacity()) {
      throw new IllegalArgumentException("ring at " + control + " of " + capacity
          + " bytes does not fit a region of " + region.capacity());
    }
    this.region = region;
    this.control = control;
    this.data = control + DATA;
    this.capacity = capacity;
    this.mask = capacity - 1;
  }

  public int capacity() {
    return capacity;
  }

  // ---------------------------------------------------------------------------------------------
  // Reader side

  /** Bytes published and not yet consumed, checked. */
  public long available() throws FramingException {
    long t = (long) LONG.getAcquire(region, control + TAIL);
    long ahead = checked("tail", t, tail, t - head, "head", head);
    tail = t;
    return ahead;
  }

  /** Copies up to {@code dst.remaining()} available bytes into {@code dst}; returns the count. */
  public int read(ByteBuffer dst) throws FramingException {
    long ready = available();
    int n = (int) Math.min(ready, dst.remaining());
    if (n == 0) return 0;
    int at = (int) (head & mask);
    int first = Math.min(n, capacity - at);
    dst.put(dst.position(), region, data + at, first);
    if (first < n) dst.put(dst.position() + first, region, data, n - first);
    dst.position(dst.position() + n);
    head += n;
    LONG.setRelease(region, control + HEAD, head);
    return n;
  }

  /** Bytes this reader has consumed: its stream position. */
  public long consumed() {
    return head;
  }

  /**
   * Sets the reader's armed word, then fences: after it, either a look at the ring sees what the
   * writer published, or the writer sees us armed and rings (LANE.md 5.2).
   */
  public void arm(boolean armed) {
    INT.setVolatile(region, control + ARMED, armed ? 1 : 0);
    VarHandle.fullFence();
  }

  /** The writer's count of bells rung for this ring (a hint, for draining them). */
  public long bells() {
    return (long) LONG.getAcquire(region, control + BELLS);
  }

  /** Whether the writer said it closed (a hint: its socket's end is what counts). */
  public boolean writerClosed() {
    return (int) INT.getAcquire(region, control + CLOSED) != 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Writer side

  /**
   * Copies what fits of {@code src} into the ring and publishes it; returns the count, 0 when the
   * ring is full. {@link #bellDue()} then says whether the reader needs a bell.
   */
  public int write(ByteBuffer src) throws FramingException {
    long free = capacity - readerLag();
    int n = (int) Math.min(free, src.remaining());
    bellDue = false;
    if (n == 0) return 0;
    int at = (int) (tail & mask);
    int first = Math.min(n, capacity - at);
    region.put(data + at, src, src.position(), first);
    if (first < n) region.put(data, src, src.position() + first, n - first);
    src.position(src.position() + n);
    long old = tail;
    tail += n;
    LONG.setRelease(region, control + TAIL, tail);
    VarHandle.fullFence();
    bellDue = (int) INT.getVolatile(region, control + ARMED) != 0
        && (long) LONG.getAcquire(region, control + HEAD) == old;
    return n;
  }

  private boolean bellDue;

  /** Whether the last {@link #write} found the reader armed and caught up: it must be rung. */
  public boolean bellDue() {
    return bellDue;
  }

  /** Counts a bell about to be sent (LANE.md 5.2: before the byte leaves). */
  public void countBell() {
    long bells = (long) LONG.getOpaque(region, control + BELLS);
    LONG.setVolatile(region, control + BELLS, bells + 1);
  }

  /** Bytes published and not yet consumed by the reader, checked; 0 means empty. */
  public long readerLag() throws FramingException {
    long h = (long) LONG.getAcquire(region, control + HEAD);
    long lag = checked("head", h, head, tail - h, "tail", tail);
    head = h;
    return lag;
  }

  /**
   * {@code distance}, the bytes between this side's position and the peer's {@code seen} value
   * of {@code what}, once checked: the peer's position never goes back from {@code lastSeen},
   * and no more than the ring's capacity lies between the two. A peer that breaks either is
   * hostile or broken.
   */
  private long checked(String what, long seen, long lastSeen, long distance, String own,
      long ownValue) throws FramingException {
    if (Long.compareUnsigned(seen, lastSeen) < 0 || distance < 0 || distance > capacity) {
      throw new FramingException("shared-memory lane: " + what + " " + Long.toUnsignedString(seen)
          + " out of range (" + own + " " + ownValue + ", capacity " + capacity + ")");
    }
    return distance;
  }

  /** Bytes this writer has published: its stream position. */
  public long published() {
    return tail;
  }

  /** Tells the reader no more bytes come (a hint; the socket's end follows). */
  public void markClosed() {
    INT.setRelease(region, control + CLOSED, 1);
  }
}
