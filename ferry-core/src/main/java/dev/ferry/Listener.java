package dev.ferry;

import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.Sockets;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;

/**
 * Accepts connections at an {@link Address}, authenticating each with the HMAC handshake when the
 * options carry a key.
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
 * {@code accept()}, where one silent client blocks it forever). {@link #accept()} hands out the
 * results in the order the handshakes finish: the next authenticated connection, or the exception
 * a failed handshake ended with ({@link AuthenticationException} with CPython's wording,
 * {@link SocketTimeoutException}, ...), after which the listener stays usable.
 *
 * <p>A Unix socket file is made readable and writable by its owner only, and removed on close.
 * Several threads may call {@link #accept()} at once; {@link #close()} wakes them with
 * {@link ConnectionClosedException} and closes the connections nobody accepted.
 *
 * <p>Python: {@code multiprocessing.connection.Listener}.
 */
public final class Listener implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Address address;
  private final ConnectionOptions options;
  private final AcceptLoop loop;

  private volatile boolean closed;

  private Listener(ServerSocketChannel server, Address address, ConnectionOptions options,
      AcceptLoop loop) {
    this.server = server;
    this.address = address;
    this.options = options;
    this.loop = loop;
  }

  /** Listens at {@code address} with no key. */
  public static Listener bind(Address address) throws IOException {
    return bind(address, ConnectionOptions.defaults());
  }

  /**
   * Listens at {@code address}.
   *
   * @throws java.net.BindException if the address is in use (a Unix socket file that already
   *     exists counts: it is never removed)
   * @throws IllegalArgumentException for a TCP address that is not loopback, without a key, unless
   *     {@link ConnectionOptions.Builder#allowUnauthenticatedNetwork()} was chosen
   */
  public static Listener bind(Address address, ConnectionOptions options) throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    if (address instanceof Address.Tcp && options.authKey().isEmpty()
        && !options.unauthenticatedNetworkAllowed() && !isLoopback(address)) {
      throw new IllegalArgumentException("refusing to listen on " + address
          + " without an authkey: any host could connect (set an authkey, or allow"
          + " unauthenticated network listeners explicitly)");
    }
    ServerSocketChannel server = Sockets.bind(address, options.backlog());
    try {
      if (address instanceof Address.Unix unix) {
        Files.setPosixFilePermissions(unix.path(), PosixFilePermissions.fromString("rw-------"));
      }
      Address bound = Sockets.boundAddress(address, server);
      Listener listener = new Listener(server, bound, options, new AcceptLoop(server, bound, options));
      listener.loop.start();
      return listener;
    } catch (IOException | RuntimeException e) {
      server.close();
      deleteSocketFile(address);
      throw e;
    }
  }

  private static boolean isLoopback(Address address) throws IOException {
    InetSocketAddress inet = (InetSocketAddress) Sockets.socketAddress(address);
    return inet.getAddress().isLoopbackAddress();
  }

  /** The address clients connect to; for TCP port 0, the port that was bound. */
  public Address address() {
    return address;
  }

  public ConnectionOptions options() {
    return options;
  }

  public boolean isClosed() {
    return closed;
  }

  /**
   * Returns the next client whose handshake succeeded, waiting as long as it takes, or throws the
   * exception of the next handshake that failed. Python: {@code accept()}.
   */
  public Connection accept() throws IOException {
    return accept(Deadlines.NONE);
  }

  /**
   * As {@link #accept()}, but gives up after {@code timeout} with {@link SocketTimeoutException}.
   */
  public Connection accept(Duration timeout) throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return accept(Deadlines.after(timeout));
  }

  private Connection accept(long deadline) throws IOException {
    if (closed) throw new ConnectionClosedException("listener is closed");
    Object result;
    try {
      result = loop.take(deadline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to accept on " + address);
    }
    if (result == null) throw new SocketTimeoutException("accept timed out on " + address);
    if (result == AcceptLoop.CLOSED) {
      loop.results.add(AcceptLoop.CLOSED); // for the next waiter
      throw new ConnectionClosedException("listener is closed");
    }
    if (result instanceof IOException e) throw e;
    return (Connection) result;
  }

  /** Whether {@link #accept()} would return (or throw) at once: for {@link Wait}. */
  boolean hasResult() {
    return loop.hasResult();
  }

  java.util.List<Runnable> watchers() {
    return loop.watchers;
  }

  /**
   * Stops listening, removes the socket file, closes the connections nobody accepted and wakes
   * threads blocked in {@link #accept()}. Idempotent. Connections already accepted stay open.
   */
  @Override
  public void close() throws IOException {
    if (closed) return;
    closed = true;
    try {
      loop.close();
      server.close();
    } finally {
      deleteSocketFile(address);
    }
  }

  private static void deleteSocketFile(Address address) throws IOException {
    if (address instanceof Address.Unix unix) Files.deleteIfExists(unix.path());
  }

  @Override
  public String toString() {
    return "Listener[" + address + (closed ? ", closed" : "") + "]";
  }

  // Guarded by this; created on the first acceptAsync.
  private AsyncAccepts asyncAccepts;

  /**
   * The asynchronous twin of {@link #accept()}: a future for the next authenticated connection
   * (or the failure of the next handshake), served in the order asked for and sharing the queue
   * with {@link #accept()}. It completes on the listener's accept thread: chain with
   * {@code ...Async} stages for anything slow. Cancelling it leaves the result for the next
   * accept. After {@link #close()} it fails with {@link ConnectionClosedException}.
   */
  public java.util.concurrent.CompletableFuture<Connection> acceptAsync() {
    AsyncAccepts accepts;
    synchronized (this) {
      if (asyncAccepts == null) asyncAccepts = new AsyncAccepts(loop);
      accepts = asyncAccepts;
    }
    return accepts.add();
  }
}
