package dev.ferry;

import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.Sockets;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;

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
 * <p>A Unix socket file is made readable and writable by its owner only, and removed on close.
 * Several threads may call {@link #accept()} at once; {@link #close()} wakes them with
 * {@link ConnectionClosedException}. A failed handshake throws from {@code accept} and leaves the
 * listener usable. Each handshake is bounded by {@link ConnectionOptions#handshakeTimeout()}, so a
 * silent client cannot hold {@code accept} forever.
 *
 * <p>Python: {@code multiprocessing.connection.Listener}.
 */
public final class Listener implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Address address;
  private final ConnectionOptions options;

  // Guarded by acceptLock: the selector blocking accepts wait on.
  private final ReentrantLock acceptLock = new ReentrantLock();
  private final Selector selector;

  private volatile boolean closed;

  private Listener(ServerSocketChannel server, Address address, ConnectionOptions options,
      Selector selector) {
    this.server = server;
    this.address = address;
    this.options = options;
    this.selector = selector;
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
    Selector selector = null;
    try {
      if (address instanceof Address.Unix unix) {
        Files.setPosixFilePermissions(unix.path(), PosixFilePermissions.fromString("rw-------"));
      }
      selector = server.provider().openSelector();
      server.register(selector, SelectionKey.OP_ACCEPT);
      return new Listener(server, Sockets.boundAddress(address, server), options, selector);
    } catch (IOException | RuntimeException e) {
      if (selector != null) selector.close();
      server.close();
      deleteSocketFile(address);
      throw e;
    }
  }

  private static boolean isLoopback(Address address) throws IOException {
    InetSocketAddress inet = (InetSocketAddress) Sockets.socketAddress(address);
    InetAddress host = inet.getAddress();
    return host.isLoopbackAddress();
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

  /** Waits for the next client and authenticates it. Python: {@code accept()}. */
  public Connection accept() throws IOException {
    return accept(Deadlines.NONE);
  }

  /**
   * As {@link #accept()}, but gives up after {@code timeout} with
   * {@link SocketTimeoutException}. The handshake has its own timeout on top.
   */
  public Connection accept(Duration timeout) throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return accept(Deadlines.after(timeout));
  }

  private Connection accept(long deadline) throws IOException {
    SocketChannel channel = acceptChannel(deadline);
    Endpoint endpoint;
    try {
      Sockets.configureAccepted(channel);
      endpoint = new Endpoint(new SocketTransport(channel), "accepted on " + address, true, true,
          options);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    authenticate(endpoint);
    return endpoint;
  }

  private void authenticate(Endpoint endpoint) throws IOException {
    if (options.authKey().isEmpty()) return;
    long deadline = Deadlines.after(options.handshakeTimeout());
    try {
      Handshake.serverSide(endpoint.handshakeChannel(deadline), options.authKey().get().bytes());
    } catch (SocketTimeoutException e) {
      endpoint.close();
      throw new SocketTimeoutException("handshake timed out after "
          + options.handshakeTimeout().toMillis() + " ms on " + address);
    } catch (IOException | RuntimeException e) {
      endpoint.close();
      throw e;
    }
  }

  private SocketChannel acceptChannel(long deadline) throws IOException {
    try {
      acceptLock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to accept on " + address);
    }
    try {
      while (true) {
        if (closed) throw new ConnectionClosedException("listener is closed");
        SocketChannel channel = server.accept();
        if (channel != null) return channel;
        long millis = Deadlines.selectMillis(deadline);
        if (millis < 0) throw new SocketTimeoutException("accept timed out on " + address);
        try {
          Deadlines.select(selector, millis);
        } catch (ClosedSelectorException e) {
          throw new ConnectionClosedException("listener is closed");
        }
        selector.selectedKeys().clear();
        if (Thread.interrupted()) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting to accept on " + address);
        }
      }
    } catch (java.nio.channels.ClosedChannelException e) {
      throw new ConnectionClosedException("listener is closed");
    } finally {
      acceptLock.unlock();
    }
  }

  ServerSocketChannel serverChannel() {
    return server;
  }

  /**
   * Stops listening, removes the socket file and wakes threads blocked in {@link #accept()}.
   * Idempotent. Connections already accepted stay open.
   */
  @Override
  public void close() throws IOException {
    if (closed) return;
    closed = true;
    selector.wakeup();
    try {
      server.close();
    } finally {
      acceptLock.lock(); // the woken acceptor lets go promptly; then nobody selects any more
      try {
        selector.close();
      } finally {
        acceptLock.unlock();
        deleteSocketFile(address);
      }
    }
  }

  private static void deleteSocketFile(Address address) throws IOException {
    if (address instanceof Address.Unix unix) Files.deleteIfExists(unix.path());
  }

  @Override
  public String toString() {
    return "Listener[" + address + (closed ? ", closed" : "") + "]";
  }
}
