package dev.ferry;

import dev.ferry.handle.Handles;
import dev.ferry.internal.raw.RawReadEnd;
import dev.ferry.internal.raw.RawWriteEnd;
import dev.ferry.internal.transport.SocketPairs;
import java.io.IOException;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A one-way byte stream between two ends, with no framing: what {@code os.pipe()} gives Python
 * and what seed 003's aiopipe wraps, as opposed to {@link Pipe}, whose ends exchange messages.
 *
 * <pre>{@code
 * try (RawPipe pipe = RawPipe.open()) {
 *   pipe.writer().write(ByteBuffer.wrap("hi\n".getBytes(UTF_8)));
 *   pipe.reader().read(buffer);
 * }
 * }</pre>
 *
 * <p><b>Not a pipe(2), said plainly:</b> the ends are the two sockets of a Unix socket pair,
 * each used in one direction. A real pipe cannot serve here: junixsocket's selector (the one that
 * the event loops use for Unix descriptors) refuses its pipe channels, and the JDK's own pipe
 * hides its descriptor, which passing an end to a child needs. To a Python peer the difference
 * does not show: {@code os.fdopen}, {@code os.read}/{@code os.write}, asyncio's
 * {@code connect_read_pipe}/{@code connect_write_pipe} and aiopipe's {@code AioPipeReader(fd)} /
 * {@code AioPipeWriter(fd)} take a socket as they take a pipe. The kernel buffers about 200 KiB
 * per direction, as a pipe buffers 64 KiB.
 *
 * <p>Ends are passed to other processes with {@link Handles#sendRawEnd} (a Python child takes
 * one with {@code ferry_child.receive_fd(conn)} or {@code recv_handle(conn)}), and driven from
 * event loops with {@link dev.ferry.async.AsyncRawReader} and
 * {@link dev.ferry.async.AsyncRawWriter}. The reader sees end of stream once every copy of the
 * write end, in every process, is closed. Linux only, as descriptor passing.
 */
public final class RawPipe implements AutoCloseable {
  private final RawReader reader;
  private final RawWriter writer;

  private RawPipe(RawReader reader, RawWriter writer) {
    this.reader = reader;
    this.writer = writer;
  }

  /** Opens a new raw pipe. Python: {@code os.pipe()}, {@code aiopipe.aiopipe()}. */
  public static RawPipe open() throws IOException {
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    RawReadEnd reader = null;
    try {
      reader = new RawReadEnd(pair[0], "raw pipe read end");
      return new RawPipe(reader, new RawWriteEnd(pair[1], "raw pipe write end"));
    } catch (IOException | RuntimeException e) {
      if (reader != null) reader.close(); else pair[0].close();
      pair[1].close();
      throw e;
    }
  }

  public RawReader reader() {
    return reader;
  }

  public RawWriter writer() {
    return writer;
  }

  /** Closes both ends (those already closed or moved to another process are left as they are). */
  @Override
  public void close() throws IOException {
    try {
      reader.close();
    } finally {
      writer.close();
    }
  }

  @Override
  public String toString() {
    return "RawPipe[" + reader + ", " + writer + "]";
  }
}
