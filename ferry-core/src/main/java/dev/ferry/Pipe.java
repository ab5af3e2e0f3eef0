package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
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

  /** As {@link #duplex()}, with the message size limit of {@code options}. */
  public static Duplex duplex(ConnectionOptions options) throws IOException {
    Objects.requireNonNull(options, "options");
    refuseTls(options);
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    return new Duplex(end(pair[0], "pipe", true, true, options),
        end(pair[1], "pipe", true, true, options));
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
    return new OneWay(end(pair[0], "pipe reader", true, false, options),
        end(pair[1], "pipe writer", false, true, options));
  }

  private static void refuseTls(ConnectionOptions options) {
    if (options.tls().isPresent()) {
      throw new IllegalArgumentException("tls needs a tcp address, and a pipe is a unix socket"
          + " pair: drop tls (a pipe never leaves the process and its children)");
    }
  }

  private static FramedConnection end(AFUNIXSocketChannel channel, String description, boolean readable,
      boolean writable, ConnectionOptions options) throws IOException {
    FramedConnection end = new FramedConnection(new SocketTransport(channel), description, readable,
        writable, options);
    end.recordOpened("pipe", "socketpair", 0, "none");
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
