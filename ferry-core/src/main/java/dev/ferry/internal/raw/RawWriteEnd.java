package dev.ferry.internal.raw;

import dev.ferry.RawWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/** The write end of a raw pipe: see {@link RawEnd} for the socket under it. */
public final class RawWriteEnd extends RawEnd implements RawWriter {
  public RawWriteEnd(AFUNIXSocketChannel channel, String description) throws IOException {
    super(channel, description);
  }

  @Override
  String verb() {
    return "writes";
  }

  /** Writes all of {@code src}, blocking while the reader is behind. */
  @Override
  public int write(ByteBuffer src) throws IOException {
    Objects.requireNonNull(src, "src");
    int total = src.remaining();
    if (total == 0) return 0;
    // One call holds the end for the whole buffer: writes from several threads do not interleave.
    return blocking(SelectionKey.OP_WRITE, null, c -> {
      c.write(src);
      return src.hasRemaining() ? 0 : total;
    });
  }

  @Override
  public OutputStream outputStream() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        RawWriteEnd.this.write(ByteBuffer.wrap(b, off, len));
      }

      @Override
      public void close() throws IOException {
        RawWriteEnd.this.close();
      }
    };
  }
}
