package dev.ferry;

import dev.ferry.internal.accept.AcceptLoop;
import dev.ferry.internal.accept.AsyncAccepts;
import dev.ferry.internal.handle.PassableListener;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.Sockets;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Objects;

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
 * {@link TlsHandshakeException}, {@link SocketTimeoutException}, ...), after which the listener stays usable.
 *
 * <p>A Unix socket file is made readable and writable by its owner only (0600, set right after
 * bind: for the short moment in between the process umask applies, so put user-given paths in a
 * directory only the owner can enter, or use {@link #bindPrivate}, whose fresh 0700 directory
 * closes that gap). On close the file is removed only if it is still the one this listener
 * created: a file deleted underneath the listener, or replaced by someone else's, is left alone.
 * An existing file at the path is never removed on bind either: bind fails instead.
 * Several threads may call {@link #accept()} at once; {@link #close()} wakes them with
 * {@link ConnectionClosedException} and closes the connections nobody accepted.
 *
 * <p>Python: {@code multiprocessing.connection.Listener}.
 */
// PassableListener is internal, for dev.ferry.handle; callers outside the module cannot see it.
@SuppressWarnings("exports")
public final class Listener implements AutoCloseable, PassableListener {
  private final ServerSocketChannel server;
  private final Address address;
  private final ConnectionOptions options;
  private final AcceptLoop loop;
  /** The socket file's identity right after bind (see fileKey); null if not a Unix path. */
  private final Object socketFileKey;
  /** The private directory {@link #bindPrivate} made, removed on close; else null. */
  private final Path privateDirectory;

  private volatile boolean closed;

  private Listener(ServerSocketChannel server, Address address, ConnectionOptions options,
      AcceptLoop loop, Object socketFileKey, Path privateDirectory) {
    this.server = server;
    this.address = address;
    this.options = options;
    this.loop = loop;
    this.socketFileKey = socketFileKey;
    this.privateDirectory = privateDirectory;
  }

  /**
   * Listens on a fresh Unix socket in a new directory that only this user can enter (0700), made
   * under {@code java.io.tmpdir} (or {@code /tmp} if that path would be too long for a socket),
   * and removed with the socket on close. Other local users can neither connect nor see the
   * socket, whatever the umask; clients of the same user find it at {@link #address()}.
   *
   * <p>Python: {@code Listener()} with no address, whose {@code arbitrary_address} is a
   * {@code listener-*} file in a private {@code pymp-*} directory.
   */
  public static Listener bindPrivate(ConnectionOptions options) throws IOException {
    Objects.requireNonNull(options, "options");
    Path dir = privateDirectory(Path.of(System.getProperty("java.io.tmpdir")));
    try {
      return bind(new Address.Unix(dir.resolve("sock")), options, dir);
    } catch (IOException | RuntimeException e) {
      try {
        Files.deleteIfExists(dir);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private static Path privateDirectory(Path tmp) throws IOException {
    java.nio.file.attribute.FileAttribute<?> ownerOnly =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    // "ferry-" + 10 random digits + "/sock": keep the whole path under sun_path's 107 bytes.
    int room = Address.MAX_UNIX_NAME_BYTES - "/ferry-01234567890123456789/sock".length();
    if (tmp.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > room) {
      tmp = Path.of("/tmp");
    }
    return Files.createTempDirectory(tmp, "ferry-", ownerOnly); // created with 0700, no window
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
   * @throws IllegalArgumentException for a TCP address that is not loopback, with neither a key
   *     nor TLS, unless {@link ConnectionOptions.Builder#allowUnauthenticatedNetwork()} was chosen;
   *     for TLS options with a Unix socket address
   */
  public static Listener bind(Address address, ConnectionOptions options) throws IOException {
    return bind(address, options, null);
  }

  private static Listener bind(Address address, ConnectionOptions options, Path privateDirectory)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    options.checkTlsAddress(address);
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
    ServerSocketChannel server = Sockets.bind(address, options.backlog());
    Object fileKey = null;
    try {
      if (address instanceof Address.Unix unix) {
        Files.setPosixFilePermissions(unix.path(), PosixFilePermissions.fromString("rw-------"));
        fileKey = fileKey(unix.path());
      }
      Address bound = Sockets.boundAddress(address, server);
      Listener listener = new Listener(server, bound, options, new AcceptLoop(server, bound, options),
          fileKey, privateDirectory);
      listener.loop.start();
      return listener;
    } catch (IOException | RuntimeException e) {
      server.close();
      try {
        deleteSocketFile(address, fileKey);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * The file's identity: device, inode, type and mode, and change time. The inode alone is not
   * enough: a file created right after ours was deleted often gets the same number.
   */
  private static Object fileKey(Path path) {
    try {
      return Files.readAttributes(path, "unix:dev,ino,mode,ctime",
          java.nio.file.LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException e) {
      return null;
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

  /** The options this listener was bound with, which every accepted connection gets too. */
  public ConnectionOptions options() {
    return options;
  }

  /** Whether {@link #close()} was called. */
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
      if (passedOn || adopted) closeDescriptorOnly();
      server.close();
    } finally {
      if (!passedOn) {
        deleteSocketFile(address, socketFileKey);
        if (privateDirectory != null) deleteEmptyDirectory(privateDirectory);
      }
    }
  }

  /**
   * Removes the socket file if it is still the one bound (same inode, mode and ctime): not a file
   * someone put there after deleting ours. Python raises FileNotFoundError here; a close that
   * fails for a file that is already gone helps nobody.
   */
  private static void deleteSocketFile(Address address, Object fileKey) throws IOException {
    if (!(address instanceof Address.Unix unix) || fileKey == null) return;
    if (fileKey.equals(fileKey(unix.path()))) Files.deleteIfExists(unix.path());
  }

  private static void deleteEmptyDirectory(Path dir) throws IOException {
    try {
      Files.deleteIfExists(dir);
    } catch (java.nio.file.DirectoryNotEmptyException e) {
      // Someone with our uid put files there: theirs to keep.
    }
  }

  @Override
  public String toString() {
    return "Listener[" + address + (closed ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Passing to another process, for dev.ferry.handle (Unix sockets only).

  /** Set once this listener's socket went to another process: it is theirs to unlink and shut. */
  private volatile boolean passedOn;

  /** Set on a listener made from a received socket: other processes may hold it too. */
  private volatile boolean adopted;

  /** A listener on a server socket received from another process, already bound and listening. */
  public static Listener adopt(ServerSocketChannel server, Address address, ConnectionOptions options)
      throws IOException {
    server.configureBlocking(false);
    // The socket file is ours to remove now, if it is still the one the sender bound.
    Object fileKey = address instanceof Address.Unix unix ? fileKey(unix.path()) : null;
    Listener listener = new Listener(server, address, options,
        new AcceptLoop(server, address, options), fileKey, null);
    listener.adopted = true;
    listener.loop.start();
    return listener;
  }

  @Override
  public boolean passesDescriptor() {
    return server instanceof org.newsclub.net.unix.AFUNIXServerSocketChannel;
  }

  @Override
  public java.io.FileDescriptor serverDescriptor() throws IOException {
    return ((org.newsclub.net.unix.AFUNIXServerSocketChannel) server).getFileDescriptor();
  }

  @Override
  public void markPassedOn() {
    passedOn = true;
  }

  /** A plain close(2): junixsocket's close would shut the socket down for the other process too. */
  private void closeDescriptorOnly() throws IOException {
    java.io.FileDescriptor fd = serverDescriptor();
    if (fd != null && fd.valid()) new java.io.FileInputStream(fd).close();
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
