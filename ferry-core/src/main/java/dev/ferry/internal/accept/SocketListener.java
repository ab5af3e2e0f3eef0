package dev.ferry.internal.accept;

import dev.ferry.Address;
import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.ListenerMetrics;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.Sockets;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;

/**
 * The one implementation of {@link Listener}: a listening socket, its {@link AcceptLoop}, its
 * socket file, and passing the socket on to another process. Besides the public API it offers
 * the engine what a {@code Listener} hides, for code that casts to this class as it does to the
 * framed connection: readiness and hooks for the wait sets, the descriptor for
 * {@code dev.ferry.handle}, and {@link #adopt} for a listening socket received from another
 * process.
 */
public final class SocketListener implements Listener {
  private final ServerSocketChannel server;
  private final Address address;
  private final ConnectionOptions options;
  private final AcceptLoop loop;
  /** The socket file to remove on close; null if not a Unix path. */
  private final SocketFile socketFile;
  /** The private directory {@link #bindPrivate} made, removed on close; else null. */
  private final Path privateDirectory;
  /** Set on a listener made from a received socket: other processes may hold it too. */
  private final boolean adopted;

  /** Set once this listener's socket went to another process: it is theirs to unlink and shut. */
  private volatile boolean passedOn;
  private volatile boolean closed;

  /** The peer address of the connection accept handed out last; see {@link #lastAccepted()}. */
  private volatile Optional<Address> lastAccepted = Optional.empty();

  // Guarded by this; created on the first acceptAsync.
  private AsyncAccepts asyncAccepts;

  private SocketListener(ServerSocketChannel server, Address address, ConnectionOptions options,
      SocketFile socketFile, Path privateDirectory, boolean adopted) throws IOException {
    this.server = server;
    this.address = address;
    this.options = options;
    this.loop = new AcceptLoop(server, address, options);
    this.socketFile = socketFile;
    this.privateDirectory = privateDirectory;
    this.adopted = adopted;
  }

  /**
   * {@link Listener#bindPrivate}: binds in a fresh private directory, after {@code check} passed
   * the address.
   */
  public static Listener bindPrivate(ConnectionOptions options, Consumer<Address> check)
      throws IOException {
    Path dir = SocketFile.privateDirectory(Path.of(System.getProperty("java.io.tmpdir")));
    try {
      Address address = new Address.Unix(dir.resolve("sock"));
      check.accept(address);
      return bind(address, options, dir);
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(dir);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** {@link Listener#bind(Address, ConnectionOptions)}, past the TLS check. */
  public static Listener bind(Address address, ConnectionOptions options) throws IOException {
    if (address instanceof Address.Tcp && options.authKey().isEmpty() && options.tls().isEmpty()
        && !options.unauthenticatedNetworkAllowed() && !isLoopback(address)) {
      throw new IllegalArgumentException("refusing to listen on " + address
          + " without an authkey or tls: any host could connect (set an authkey or tls, or allow"
          + " unauthenticated network listeners explicitly)");
    }
    if (address instanceof Address.Tcp && options.peerPolicy().isPresent()) {
      throw new IllegalArgumentException("a peer policy needs a unix socket, and " + address
          + " is tcp: tcp peers carry no credentials");
    }
    return bind(address, options, null);
  }

  private static Listener bind(Address address, ConnectionOptions options, Path privateDirectory)
      throws IOException {
    ServerSocketChannel server = Sockets.bind(address, options.backlog());
    SocketFile file = SocketFile.of(address);
    try {
      if (file != null) file.ownerOnly();
      Address bound = Sockets.boundAddress(address, server);
      SocketListener listener =
          new SocketListener(server, bound, options, file, privateDirectory, false);
      listener.loop.start();
      return listener;
    } catch (IOException | RuntimeException e) {
      try {
        if (file != null) file.deleteIfOurs(); // while the socket still holds its inode
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      server.close();
      throw e;
    }
  }

  private static boolean isLoopback(Address address) throws IOException {
    InetSocketAddress inet = (InetSocketAddress) Sockets.socketAddress(address);
    return inet.getAddress().isLoopbackAddress();
  }

  /**
   * A listener on a server socket received from another process, already bound and listening.
   * It removes the socket file on close, if the path still holds that socket, unless it passes
   * the socket on again; it never shuts the socket down for the other holders.
   */
  public static Listener adopt(ServerSocketChannel server, Address address,
      ConnectionOptions options) throws IOException {
    server.configureBlocking(false);
    SocketListener listener =
        new SocketListener(server, address, options, SocketFile.of(address), null, true);
    listener.loop.start();
    return listener;
  }

  @Override
  public Address address() {
    return address;
  }

  @Override
  public ConnectionOptions options() {
    return options;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public Connection accept() throws IOException {
    return accept(Deadlines.NONE);
  }

  @Override
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
      loop.keepClosed(); // for the next waiter
      throw new ConnectionClosedException("listener is closed");
    }
    if (result instanceof IOException e) throw e;
    return handedOut((Connection) result);
  }

  /** Records {@code accepted} as the last connection handed out, for {@link #lastAccepted()}. */
  Connection handedOut(Connection accepted) {
    Optional<Address> peer;
    try {
      peer = Sockets.peerAddress(((FramedConnection) accepted).channel());
    } catch (IOException e) {
      peer = Optional.empty(); // closed already: there is no address left to read
    }
    lastAccepted = peer;
    return accepted;
  }

  @Override
  public Optional<Address> lastAccepted() {
    return lastAccepted;
  }

  @Override
  public CompletableFuture<Connection> acceptAsync() {
    AsyncAccepts accepts;
    synchronized (this) {
      if (asyncAccepts == null) asyncAccepts = new AsyncAccepts(loop, this::handedOut);
      accepts = asyncAccepts;
    }
    return accepts.add();
  }

  @Override
  public void close() throws IOException {
    if (closed) return;
    closed = true;
    try {
      loop.close();
      try {
        if (!passedOn && socketFile != null) socketFile.deleteIfOurs();
      } finally {
        if (passedOn || adopted) closeDescriptorOnly();
        server.close();
      }
    } finally {
      if (!passedOn && privateDirectory != null) SocketFile.deleteEmptyDirectory(privateDirectory);
    }
  }

  @Override
  public ListenerMetrics metrics() {
    return loop.metrics();
  }

  @Override
  public String toString() {
    return "Listener[" + address + (closed ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // For the wait sets

  /** Whether {@link #accept()} would return (or throw) at once. */
  public boolean hasResult() {
    return loop.hasResult();
  }

  /** Calls {@code watcher} whenever a result is queued for accept, and on close. */
  public void addWaitWatcher(Runnable watcher) {
    loop.addWatcher(watcher);
  }

  public void removeWaitWatcher(Runnable watcher) {
    loop.removeWatcher(watcher);
  }

  // ---------------------------------------------------------------------------------------------
  // Passing to another process, for dev.ferry.handle (Unix sockets only)

  /** Whether the listening socket can travel: a Unix socket. */
  public boolean passesDescriptor() {
    return server instanceof AFUNIXServerSocketChannel;
  }

  /** The listening socket's descriptor; only where {@link #passesDescriptor()}. */
  public FileDescriptor serverDescriptor() throws IOException {
    return ((AFUNIXServerSocketChannel) server).getFileDescriptor();
  }

  /**
   * From now on, closing releases only this process's descriptor: no shutdown, and the socket
   * file stays for the process that received it.
   */
  public void markPassedOn() {
    passedOn = true;
  }

  /** A plain close(2): junixsocket's close would shut the socket down for the other process too. */
  private void closeDescriptorOnly() throws IOException {
    FileDescriptor fd = serverDescriptor();
    if (fd != null && fd.valid()) new FileInputStream(fd).close();
  }
}
