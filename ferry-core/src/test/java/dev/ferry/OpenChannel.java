package dev.ferry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ReadableByteChannel;

/** A test channel that is always open and has nothing to close: sources and sinks in memory. */
abstract class OpenChannel implements Channel {
  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}

  /** The read of a source, as a lambda. */
  interface Read {
    int read(ByteBuffer dst) throws IOException;
  }

  /** A source that reads with {@code read}. */
  static ReadableByteChannel reading(Read read) {
    return new Source(read);
  }

  private static final class Source extends OpenChannel implements ReadableByteChannel {
    private final Read read;

    Source(Read read) {
      this.read = read;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return read.read(dst);
    }
  }
}
