package dev.ferry;

import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/** A source of {@code size} zero bytes that holds none of them: for messages of any length. */
final class Zeros extends OpenChannel implements ReadableByteChannel {
  private long left;

  Zeros(long size) {
    this.left = size;
  }

  @Override
  public int read(ByteBuffer dst) {
    if (left == 0) return -1;
    int n = (int) Math.min(left, dst.remaining());
    dst.position(dst.position() + n);
    left -= n;
    return n;
  }
}
