package dev.ferry;

import dev.ferry.internal.accept.SocketListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.BindException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Accepts connections at an {@link Address}, authenticating each with the HMAC handshake when the
 * options carry a key, over TLS when they carry an {@link ConnectionOptions#tls() SSLContext}.
 *
 * <pre>{@code
 * try (Listener listener = Listener.bind(Address.parse("unix:/tmp/app.sock"), options);
 *      Connection c = listener.accept()) {
 *   c.sendBytes(c.receiveBytes()); // echo one message
 * }
 * }</pre>
 *
 * <p>A thread of the listener's own, named {@code ferry-accept-N}, accepts clients as they come and
 * runs all their handshakes at once, each bounded by {@link ConnectionOptions#handshakeTimeout()}:
 * a silent or slow client holds up nobody else (CPython runs the handshake inside
 * {@code accept()}, where one silent client blocks it forever). With TLS, the TLS handshake runs
 * there first, under the same timeout, then the HMAC one inside it. {@link #accept()} hands out the
 * results in the order the handshakes finish: the next authenticated connection, or the exception
 * a failed handshake ended with ({@link AuthenticationException} with CPython's wording,
 * {@link TlsHandshakeException}, {@link SocketTimeoutException}, ...), after which the listener
 * stays usable.
 *
 * <p>A Unix socket file is made readable and writable by its owner only (0600, set right after
 * bind: for the short moment in between the process umask applies, so put user-given paths in a
 * directory only the owner can enter, or use {@link #bindPrivate}, whose fresh 0700 directory
 * closes that gap). On close the file is removed if the path still holds the socket this listener
 * bound, whatever its mode, owner or times have become since: a file deleted underneath the
 * listener, or replaced by someone else's, is left alone. An existing file at the path is never
 * removed on bind either: bind fails instead. Several threads may call {@link #accept()} at once;
 * {@link #close()} wakes them with {@link ConnectionClosedException} and closes the connections
 * nobody accepted.
 *
 * <p>Ferry is the only implementation: the interface is sealed.
 *
 * <p>Python: {@code multiprocessing.connection.Listener}.
 */
public sealed interface Listener extends AutoCloseable permits SocketListener {

  /**
   * Listens on a fresh Unix socket in a new directory that only this user can enter (0700), made
   * under {@code java.io.tmpdir} (or {@code /tmp} if that path would be too long for a socket),
   * and removed with the socket on close. Other local users can neither connect nor see the
   * socket, whatever the umask; clients of the same user find it at {@link #address()}.
   *
   * <p>Python: {@code Listener()} with no address, whose {@code arbitrary_address} is a
   * {@code listener-*} file in a private {@code pymp-*} directory.
   *
   * @throws IllegalArgumentException for TLS options, which need a TCP address
   */
  static Listener bindPrivate(ConnectionOptions options) throws IOException {
    Objects.requireNonNull(options, "options");
    return SocketListener.bindPrivate(options, options::checkTlsAddress);
  }

  /** Listens at {@code address} with no key. */
  static Listener bind(Address address) throws IOException {
    return bind(address, ConnectionOptions.defaults());
  }

  /**
   * Listens at {@code address}.
   *
   * @throws BindException if the address is in use (a Unix socket file that already exists
   *     counts: it is never removed)
   * @throws IllegalArgumentException for a TCP address that is not loopback, with neither a key
   *     nor TLS, unless {@link ConnectionOptions.Builder#allowUnauthenticatedNetwork()} was chosen;
   *     for TLS options with a Unix socket address; for a peer policy with a TCP address
   */
  static Listener bind(Address address, ConnectionOptions options) throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    options.checkTlsAddress(address);
    return SocketListener.bind(address, options);
  }

  /** The address clients connect to; for TCP port 0, the port that was bound. */
  Address address();

  /**
   * The address of the peer of the connection that {@link #accept()} or {@link #acceptAsync()}
   * handed out last: a TCP client's IP address and port, or the path or abstract name a Unix
   * client bound its socket to. Empty before the first connection, and for a Unix client that
   * bound no name, which is the usual client (CPython reports an empty string then).
   *
   * <p>Python: {@code last_accepted}.
   */
  Optional<Address> lastAccepted();

  /** The options this listener was bound with, which every accepted connection gets too. */
  ConnectionOptions options();

  /** Whether {@link #close()} was called. */
  boolean isClosed();

  /**
   * Returns the next client whose handshake succeeded, waiting as long as it takes, or throws the
   * exception of the next handshake that failed. Python: {@code accept()}.
   *
   * @throws ConnectionClosedException if the listener is closed, or closes meanwhile
   * @throws InterruptedIOException if the thread is interrupted while waiting (its
   *     interrupt flag stays set)
   */
  Connection accept() throws IOException;

  /**
   * As {@link #accept()}, but gives up after {@code timeout} with {@link SocketTimeoutException}.
   */
  Connection accept(Duration timeout) throws IOException;

  /**
   * The asynchronous twin of {@link #accept()}: a future for the next authenticated connection
   * (or the failure of the next handshake), served in the order asked for and sharing the queue
   * with {@link #accept()}. It completes on the listener's accept thread: chain with
   * {@code ...Async} stages for anything slow. Cancelling it leaves the result for the next
   * accept. After {@link #close()} it fails with {@link ConnectionClosedException}.
   */
  CompletableFuture<Connection> acceptAsync();

  /**
   * Stops listening, removes the socket file, closes the connections nobody accepted and wakes
   * threads blocked in {@link #accept()}. Idempotent. Connections already accepted stay open.
   */
  @Override
  void close() throws IOException;

  /**
   * This listener's counts now: accepted, still open, and handshake failures by reason (see
   * {@link ListenerMetrics}). Never blocks; still answers after {@link #close()}.
   */
  ListenerMetrics metrics();
}
