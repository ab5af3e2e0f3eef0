package dev.ferry.internal.framing;

import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A growable byte sink that keeps four bytes free in front of the payload, so that a codec's output
 * becomes a frame (header and payload in one buffer, one write) without another copy.
 */
public final class MessageOutput extends OutputStream {
  private byte[] bytes = new byte[256];
  private int count = Frames.SHORT_HEADER;

  @Override
  public void write(int b) {
    ensure(1);
    bytes[count++] = (byte) b;
  }

  @Override
  public void write(byte[] b, int off, int len) {
    Objects.checkFromIndexSize(off, len, b.length);
    ensure(len);
    System.arraycopy(b, off, bytes, count, len);
    count += len;
  }

  private void ensure(int more) {
    long needed = (long) count + more;
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("encoded message too large: " + (needed - Frames.SHORT_HEADER)
          + " bytes; use sendFrom for messages over 2 GiB");
    }
    if (needed > bytes.length) {
      bytes = Arrays.copyOf(bytes, (int) Math.max(needed, Math.min(2L * bytes.length, Integer.MAX_VALUE - 8)));
    }
  }

  /** The payload length written so far. */
  public int size() {
    return count - Frames.SHORT_HEADER;
  }

  /** The whole frame, header filled in, ready to write. */
  public ByteBuffer toFrame() {
    ByteBuffer frame = ByteBuffer.wrap(bytes, 0, count);
    frame.putInt(0, size());
    return frame;
  }
}
