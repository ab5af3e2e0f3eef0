package dev.ferry.internal.framing;

import java.nio.ByteBuffer;

/**
 * The frame header of CPython's {@code multiprocessing.connection}.
 *
 * <pre>
 *   0                   4                                  12
 *   +-------------------+
 *   | length (int32 BE) |                                     0 <= length <= 0x7fffffff
 *   +-------------------+----------------------------------+
 *   | ff ff ff ff       | length (uint64 BE)               |  length > 0x7fffffff (Python 3.8+)
 *   +-------------------+----------------------------------+
 * </pre>
 */
public final class Frames {
  public static final int SHORT_HEADER = 4;
  public static final int LONG_LENGTH = 8;
  public static final int LONG_LENGTH_MARKER = -1;
  public static final long MAX_SHORT_LENGTH = 0x7fffffffL;

  private Frames() {}

  /** Writes the header for {@code length}: the short form when it fits, the 64-bit escape otherwise. */
  public static void putHeader(ByteBuffer out, long length) {
    if (length <= MAX_SHORT_LENGTH) {
      out.putInt((int) length);
    } else {
      out.putInt(LONG_LENGTH_MARKER);
      out.putLong(length);
    }
  }

  /** The payload length of a whole frame of {@code frameSize} bytes, header included. */
  public static long payloadSize(long frameSize) {
    long shortForm = frameSize - SHORT_HEADER;
    return shortForm <= MAX_SHORT_LENGTH ? shortForm : shortForm - LONG_LENGTH;
  }
}
