package dev.ferry.handle;

import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.internal.connection.FramedConnection;
import java.io.IOException;
import java.util.Objects;

/**
 * Connections on descriptors this process was started with: a Python parent that runs a Java
 * program with {@code subprocess.Popen([...], pass_fds=[child_end.fileno()])} hands it one end of
 * a {@code multiprocessing.Pipe()}, and tells it the number (on the command line, say).
 *
 * <pre>{@code
 * // python: a, b = Pipe(); Popen(["java", ..., str(b.fileno())], pass_fds=[b.fileno()])
 * try (Connection parent = Inherited.connection(Integer.parseInt(args[0]), Access.DUPLEX,
 *     ConnectionOptions.defaults())) {
 *   parent.send(parent.receive(codec), codec);
 * }
 * }</pre>
 *
 * <p>Python: {@code multiprocessing.connection.Connection(fd, readable, writable)}.
 */
public final class Inherited {
  private Inherited() {}

  /**
   * Takes over descriptor {@code descriptor}, a Unix stream socket ({@code Pipe()} ends, duplex or
   * one-way as Ferry makes them, and sockets of {@code unix:} addresses), as a connection that
   * may do what {@code access} says. No handshake runs: call {@link dev.ferry.Authentication} for
   * one.
   *
   * <p>Ownership moves to the connection: closing it closes the descriptor. It closes without
   * shutting the socket down, so a parent that still holds its copy of the same end keeps a
   * working socket (and the peer sees end of stream only once every copy is closed, as with
   * CPython). On failure the descriptor is left as it was.
   *
   * @throws IllegalArgumentException if {@code descriptor} is negative
   * @throws IOException naming the descriptor: {@code "descriptor 7 is not open"},
   *     {@code "descriptor 5 is a pipe, not a unix socket"} (the ends of CPython's one-way
   *     {@code Pipe(False)}, which are {@code os.pipe()} ends, are not framed connections Ferry
   *     can adopt yet), {@code "descriptor 4 is a regular file, not a unix socket"}
   */
  public static Connection connection(int descriptor, Access access, ConnectionOptions options)
      throws IOException {
    Objects.requireNonNull(access, "access");
    Objects.requireNonNull(options, "options");
    return FramedConnection.adoptInherited(descriptor, access.readable(), access.writable(),
        options);
  }
}
