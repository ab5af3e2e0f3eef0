package dev.ferry.handle;

import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.internal.connection.Adoption;
import dev.ferry.internal.transport.InheritedDescriptors;
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
   * Takes over descriptor {@code descriptor} as a connection that may do what {@code access}
   * says: a Unix stream socket (either end of CPython's {@code Pipe()}, a socket of a
   * {@code Listener} or {@code Client} on a Unix address), or a pipe end (either end of
   * CPython's one-way {@code Pipe(False)}, which are {@code os.pipe()} ends). No handshake runs:
   * call {@link dev.ferry.Authentication} for one.
   *
   * <p>Ownership moves to the connection: closing it closes the descriptor. A socket closes
   * without being shut down, so a parent that still holds its copy of the same end keeps a
   * working socket (and the peer sees end of stream only once every copy is closed, as with
   * CPython). A descriptor refused for what it is (the exceptions below) is left as it was.
   * Blocking mode is shared by every copy of a socket, and CPython's {@code Connection} needs
   * it: the socket is left blocking when taken over and again when closed, but while the
   * connection sends or receives, the parent's copy is non-blocking too, so a parent should
   * not use its copy meanwhile (with CPython alone two users of one end garble its messages
   * anyway). A pipe end's mode is never changed.
   *
   * <p>A pipe cannot be watched by a Java selector, so a pipe end's bytes travel through a
   * socket pair and a thread of the connection's own, {@code ferry-pipe-N}, which copies them in
   * the pipe's one direction; the connection then behaves as any other (timeouts, wait sets,
   * event loops), at the cost of one copy. The peer's close ends the connection's stream;
   * closing a write end's connection lets what was sent reach the pipe for up to a second,
   * then closes the pipe, and its reader sees end of file.
   *
   * @throws IllegalArgumentException if {@code descriptor} is negative
   * @throws IOException naming the descriptor: {@code "descriptor 7 is not open"},
   *     {@code "descriptor 4 is a regular file, not a unix socket or a pipe"},
   *     {@code "descriptor 4 is a listening unix socket"} (or a datagram or unconnected one),
   *     {@code "descriptor 5 is a pipe's read end: it cannot send"} (for {@link Access#DUPLEX}
   *     or {@link Access#WRITE_ONLY})
   */
  public static Connection connection(int descriptor, Access access, ConnectionOptions options)
      throws IOException {
    Objects.requireNonNull(access, "access");
    Objects.requireNonNull(options, "options");
    return Adoption.adoptInherited(descriptor, access.readable(), access.writable(),
        options);
  }

  /**
   * As {@link #connection(int, Access, ConnectionOptions)}, with the access the descriptor
   * itself allows: {@link Access#DUPLEX} for a socket, {@link Access#READ_ONLY} for a pipe's
   * read end, {@link Access#WRITE_ONLY} for its write end. For a command that serves whatever
   * it was given, such as {@code ferry listen --fd N}.
   */
  public static Connection connection(int descriptor, ConnectionOptions options)
      throws IOException {
    Access access = switch (InheritedDescriptors.kind(descriptor)) {
      case UNIX_SOCKET -> Access.DUPLEX;
      case PIPE_READ_END -> Access.READ_ONLY;
      case PIPE_WRITE_END -> Access.WRITE_ONLY;
    };
    return connection(descriptor, access, options);
  }
}
