package dev.ferry.internal.raw;

import dev.ferry.RawReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/** The read end of a raw pipe: see {@link RawEnd} for the socket under it. */
public final class RawReadEnd extends RawEnd implements RawReader {
  public RawReadEnd(AFUNIXSocketChannel channel, String description) throws IOException {
    super(channel, description);
  }

  @Override
  String verb() {
    return "reads";
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    Objects.requireNonNull(dst, "dst");
    if (!dst.hasRemaining()) return 0;
    return blocking(SelectionKey.OP_READ, null, c -> c.read(dst));
  }

  @Override
  public int read(ByteBuffer dst, Duration timeout) throws IOException {
    Objects.requireNonNull(dst, "dst");
    checkTimeout(Objects.requireNonNull(timeout, "timeout"));
    if (!dst.hasRemaining()) return 0;
    return blocking(SelectionKey.OP_READ, timeout, c -> c.read(dst));
  }

  @Override
  public InputStream inputStream() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) return 0;
        return RawReadEnd.this.read(ByteBuffer.wrap(b, off, len));
      }

      @Override
      public void close() throws IOException {
        RawReadEnd.this.close();
      }
    };
  }
}
