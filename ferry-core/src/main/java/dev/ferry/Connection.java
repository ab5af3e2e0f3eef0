package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import java.util.Optional;
/**
 * A duplex message connection: an accepted or client socket, or either end of a duplex
 * {@link Pipe}. All transports (socket pair, Unix path, abstract name, TCP) behave alike and speak
 * the framing of CPython's {@code multiprocessing.connection}.
 *
 * <pre>{@code
 * try (Connection c = Client.connect(Address.parse("unix:/run/worker.sock"), options)) {
 *   c.sendBytes("ping".getBytes(UTF_8));
 *   byte[] reply = c.receiveBytes();
 * }
 * }</pre>
 *
 * <p>Python: {@code multiprocessing.connection.Connection}.
 */
public sealed interface Connection extends Receiver, Sender permits FramedConnection {

  /** Where this connection leads: the peer's address for a client, this end's for a pipe. */
  String description();

  /**
   * The process at the other end, as the kernel recorded it when the connection was made, for a
   * connection over a Unix socket (path, abstract name or pipe); empty over TCP, or if the
   * socket is closed or the platform does not tell.
   */
  Optional<PeerCredentials> peerCredentials();

  /** This connection's counts now: see {@link ConnectionMetrics}. Never blocks. */
  ConnectionMetrics metrics();
}
