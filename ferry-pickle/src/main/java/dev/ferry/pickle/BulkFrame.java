package dev.ferry.pickle;

import dev.ferry.codec.CodecException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The payload of a bulk message (docs/BULK.md), inside an ordinary frame whose first byte carries
 * the descriptors (SCM_RIGHTS), one per out-of-band buffer, in table order:
 *
 * <pre>
 *   0         8       12      16                   16 + 16n
 *   +---------+-------+-------+--------------------+----------------------+
 *   | magic   | n     | flags | n x (offset,length)| pickle, protocol 5   |
 *   +---------+-------+-------+--------------------+----------------------+
 *   magic   00 46 45 52 52 59 42 31   ("\0FERRYB1": no pickle starts with 00)
 *   n       u32 little-endian: buffers, and descriptors attached; 0 to 60
 *   flags   u32 little-endian: 0
 *   offset  u64 little-endian: where buffer i starts in the memory of descriptor i
 *   length  u64 little-endian: its size in bytes
 * </pre>
 */
final class BulkFrame {
  static final byte[] MAGIC = {0, 'F', 'E', 'R', 'R', 'Y', 'B', '1'};
  static final int HEADER = 16;
  static final int ENTRY = 16;
  /**
   * The most descriptors one message may carry: what a Java receiver can take. junixsocket caps
   * the control buffer of a read at 256 bytes (room for 60 descriptors), whatever size is asked
   * for, and a read that brings more fails with ENOBUFS, keeps the 60 that fit open for good and
   * loses the bytes read; Linux alone would allow 253 (SCM_MAX_FD).
   */
  static final int MAX_BUFFERS = 60;

  private BulkFrame() {}

  /** Buffer i is {@code lengths[i]} bytes at {@code offsets[i]}; the pickle follows the table. */
  record Table(long[] offsets, long[] lengths, int pickleStart) {}

  static boolean isBulk(byte[] payload) {
    return payload.length >= MAGIC.length
        && Arrays.equals(payload, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
  }

  static byte[] encode(long[] offsets, long[] lengths, byte[] pickle) {
    int n = offsets.length;
    ByteBuffer b = ByteBuffer.allocate(HEADER + ENTRY * n + pickle.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    b.put(MAGIC).putInt(n).putInt(0);
    for (int i = 0; i < n; i++) b.putLong(offsets[i]).putLong(lengths[i]);
    return b.put(pickle).array();
  }

  /**
   * Checks a bulk payload's header and table against the {@code descriptors} that came with it
   * and against what one Java mapping holds, before anything is mapped.
   */
  static Table parse(byte[] payload, int descriptors) throws CodecException {
    if (payload.length < HEADER) {
      throw new CodecException("bulk message of " + payload.length + " bytes: header needs 16");
    }
    ByteBuffer b = ByteBuffer.wrap(payload).order(ByteOrder.LITTLE_ENDIAN).position(8);
    long n = Integer.toUnsignedLong(b.getInt());
    int flags = b.getInt();
    if (n > MAX_BUFFERS) throw new CodecException("bulk buffers " + n + " > limit " + MAX_BUFFERS);
    if (flags != 0) throw new CodecException("bulk flags not 0: " + Integer.toUnsignedString(flags));
    if (payload.length < HEADER + ENTRY * n) {
      throw new CodecException("bulk message of " + payload.length + " bytes cannot hold a table of "
          + n + " buffers");
    }
    if (descriptors != n) {
      throw new CodecException("bulk message names " + n + " buffers but came with "
          + descriptors + " descriptors");
    }
    long[] offsets = new long[(int) n];
    long[] lengths = new long[(int) n];
    for (int i = 0; i < n; i++) {
      offsets[i] = b.getLong();
      lengths[i] = b.getLong();
      if (offsets[i] < 0) {
        throw new CodecException("bulk buffer " + i + " offset too large: "
            + Long.toUnsignedString(offsets[i]));
      }
      if (lengths[i] < 0 || lengths[i] > Integer.MAX_VALUE) {
        throw new CodecException("bulk buffer " + i + " of " + Long.toUnsignedString(lengths[i])
            + " bytes > limit " + Integer.MAX_VALUE + " (one Java mapping)");
      }
      if (offsets[i] > Long.MAX_VALUE - lengths[i]) {
        throw new CodecException("bulk buffer " + i + " ends past 2^63");
      }
    }
    return new Table(offsets, lengths, b.position());
  }
}
