package dev.ferry.internal.lane;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The layout of a shared-memory lane's region (docs/LANE.md section 3): a header, then one ring per
 * direction, each a control block and a data area of {@code capacity} bytes.
 *
 * <pre>
 *  0    header (128): magic "FERRYLN\0", version u32, header size u32, capacity u64,
 *                     ring 0 offset u64 (128), ring 1 offset u64 (384 + C)
 *  128  ring 0 control (256): tail u64, bells u64, closed u32 | +128: head u64, armed u32
 *  384  ring 0 data (C)
 *  384+C ring 1 control (256)
 *  640+C ring 1 data (C)          region size = 640 + 2C
 * </pre>
 *
 * All header words are little-endian. Ring 0 carries the offerer's bytes (client, or a pipe's first
 * end), ring 1 the other direction.
 */
public final class LaneRegion {
  static final byte[] MAGIC = "FERRYLN\0".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int HEADER_SIZE = 128;
  static final int CONTROL_SIZE = 256;

  /** Smallest and largest ring, both powers of two; the largest keeps a region in one mapping. */
  public static final int MIN_CAPACITY = 4096;
  public static final int MAX_CAPACITY = 256 << 20;

  private LaneRegion() {}

  /** The region size for rings of {@code capacity} bytes. */
  public static long size(int capacity) {
    return HEADER_SIZE + 2L * (CONTROL_SIZE + capacity);
  }

  /** Where ring {@code index}'s control block starts. */
  static int ringOffset(int index, int capacity) {
    return index == 0 ? HEADER_SIZE : HEADER_SIZE + CONTROL_SIZE + capacity;
  }

  /** Checks a ring capacity, which the message calls {@code name}. */
  public static int checkCapacity(long capacity, String name) {
    if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Long.bitCount(capacity) != 1) {
      throw new IllegalArgumentException(name + " " + capacity
          + " is not a power of two from " + MIN_CAPACITY + " to " + MAX_CAPACITY);
    }
    return (int) capacity;
  }

  /** Writes the header into a fresh zero-filled region (counters and flags stay 0). */
  public static void initialize(ByteBuffer region, int capacity) {
    ByteBuffer b = region.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    b.put(0, MAGIC);
    b.putInt(8, VERSION);
    b.putInt(12, HEADER_SIZE);
    b.putLong(16, capacity);
    b.putLong(24, ringOffset(0, capacity));
    b.putLong(32, ringOffset(1, capacity));
  }

  /**
   * Checks the header of a region a peer made, {@code size} bytes mapped, before anything is read
   * from its rings; returns the capacity.
   *
   * @throws IllegalArgumentException naming the first value that is wrong
   */
  public static int validate(ByteBuffer region, long size) {
    if (size < size(MIN_CAPACITY) || region.capacity() < size) {
      throw new IllegalArgumentException("region of " + size + " bytes is too small");
    }
    ByteBuffer b = region.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[MAGIC.length];
    b.get(0, magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) throw new IllegalArgumentException("bad magic");
    if (b.getInt(8) != VERSION) throw new IllegalArgumentException("version " + b.getInt(8));
    if (b.getInt(12) != HEADER_SIZE) throw new IllegalArgumentException("header size " + b.getInt(12));
    long capacity = b.getLong(16);
    int c = checkCapacity(capacity, "ring size");
    if (size(c) != size) throw new IllegalArgumentException("region size " + size + " != " + size(c));
    if (b.getLong(24) != ringOffset(0, c) || b.getLong(32) != ringOffset(1, c)) {
      throw new IllegalArgumentException("ring offsets " + b.getLong(24) + ", " + b.getLong(32));
    }
    for (int ring = 0; ring < 2; ring++) {
      int at = ringOffset(ring, c);
      for (int i = 0; i < CONTROL_SIZE; i += 8) {
        if (b.getLong(at + i) != 0) throw new IllegalArgumentException("ring " + ring + " is not new");
      }
    }
    return c;
  }

  /** The ring of {@code index} in {@code region}, seen by one side as its reader or writer. */
  public static Ring ring(ByteBuffer region, int index, int capacity) {
    return new Ring(region, ringOffset(index, capacity), capacity);
  }
}
