package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.connection.LaneSetup;
import dev.ferry.internal.transport.LaneTransport;
import dev.ferry.internal.transport.Transport;
import dev.ferry.internal.transport.SocketPairs;
import dev.ferry.internal.transport.SocketTransport;
import java.io.IOException;
import java.util.Objects;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A connected pair of endpoints in this process, built on a pair of connected Unix sockets: to talk between
 * threads, or to hand one end to another process.
 *
 * <pre>{@code
 * try (Pipe.Duplex pipe = Pipe.duplex()) {
 *   pipe.first().sendBytes(new byte[] {1, 2, 3});
 *   byte[] got = pipe.second().receiveBytes();
 * }
 * }</pre>
 *
 * <p>Python: {@code multiprocessing.Pipe(duplex)}.
 */
public final class Pipe {
  private Pipe() {}

  /** Two connected duplex ends: each sends what the other receives. Python: {@code Pipe()}. */
  public static Duplex duplex() throws IOException {
    return duplex(ConnectionOptions.defaults());
  }

  /**
   * As {@link #duplex()}, with the message size limit of {@code options}, and over a shared-memory
   * lane if they ask for one ({@link ConnectionOptions#sharedMemoryLane()}).
   *
   * @throws UnsupportedOperationException for a lane on a platform other than x86-64 Linux
   */
  public static Duplex duplex(ConnectionOptions options) throws IOException {
    Objects.requireNonNull(options, "options");
    refuseTls(options);
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    Transport[] t = transports(pair, options);
    return new Duplex(end(t[0], "pipe", true, true, options),
        end(t[1], "pipe", true, true, options));
  }

  /**
   * A one-way pipe: what the writer sends, the reader receives. The reader has no way to send
   * and the writer none to receive. Python: {@code Pipe(duplex=False)}, which returns
   * {@code (reader, writer)} in the same order.
   */
  public static OneWay oneWay() throws IOException {
    return oneWay(ConnectionOptions.defaults());
  }

  /** As {@link #oneWay()}, with the message size limit of {@code options}. */
  public static OneWay oneWay(ConnectionOptions options) throws IOException {
    Objects.requireNonNull(options, "options");
    refuseTls(options);
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    Transport[] t = transports(pair, options);
    return new OneWay(end(t[0], "pipe reader", true, false, options),
        end(t[1], "pipe writer", false, true, options));
  }

  private static void refuseTls(ConnectionOptions options) {
    if (options.tls().isPresent()) {
      throw new IllegalArgumentException("tls needs a tcp address, and a pipe is a unix socket"
          + " pair: drop tls (a pipe never leaves the process and its children)");
    }
  }

  /**
   * Plain sockets, or with {@link ConnectionOptions#sharedMemoryLane()} both ends of one
   * shared-memory lane (no offer: this process makes both ends).
   */
  private static Transport[] transports(AFUNIXSocketChannel[] pair, ConnectionOptions options)
      throws IOException {
    try {
      if (options.sharedMemoryLane().isEmpty()) {
        return new Transport[] {new SocketTransport(pair[0]), new SocketTransport(pair[1])};
      }
      SharedMemoryLane lane = options.sharedMemoryLane().get();
      LaneTransport first = LaneSetup.transport(pair[0], options);
      LaneTransport second = LaneSetup.transport(pair[1], options);
      LaneSetup.pipe(first, second, lane);
      return new Transport[] {first, second};
    } catch (IOException | RuntimeException e) {
      pair[0].close();
      pair[1].close();
      throw e;
    }
  }

  private static FramedConnection end(Transport transport, String description, boolean readable,
      boolean writable, ConnectionOptions options) {
    FramedConnection end = new FramedConnection(transport, description, readable, writable, options);
    end.recordOpened("pipe", transport instanceof LaneTransport ? "shared-memory lane" : "socketpair",
        0, "none");
    return end;
  }

  /** Both ends of a duplex pipe. Closing the pair closes both. */
  public record Duplex(Connection first, Connection second) implements AutoCloseable {
    public Duplex {
      Objects.requireNonNull(first, "first");
      Objects.requireNonNull(second, "second");
    }

    @Override
    public void close() throws IOException {
      try {
        first.close();
      } finally {
        second.close();
      }
    }
  }

  /** The ends of a one-way pipe. Closing the pair closes both. */
  public record OneWay(Receiver reader, Sender writer) implements AutoCloseable {
    public OneWay {
      Objects.requireNonNull(reader, "reader");
      Objects.requireNonNull(writer, "writer");
    }

    @Override
    public void close() throws IOException {
      try {
        reader.close();
      } finally {
        writer.close();
      }
    }
  }
}
