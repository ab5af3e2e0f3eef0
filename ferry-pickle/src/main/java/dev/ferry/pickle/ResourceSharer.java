package dev.ferry.pickle;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.codec.CodecException;
import dev.ferry.handle.Access;
import dev.ferry.handle.Handles;
import dev.ferry.handle.Ownership;
import dev.ferry.internal.handle.Descriptors;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connections inside pickled messages, the way CPython pickles them: Java's twin of
 * {@code multiprocessing.resource_sharer}, and the client side of Python's.
 *
 * <p>In a pickle a connection is {@code rebuild_connection(DupFd(...), readable, writable)}, where
 * the {@code DupFd} holds only {@code (sharer_address, key)}. Whoever unpickles it connects to that
 * sharer, authenticates with the <em>multiprocessing authkey</em> (Python:
 * {@code multiprocessing.current_process().authkey}), sends the pickle of {@code (key, pid)}, and
 * receives the descriptor with {@code send_handle}. Each reference works once.
 *
 * <ul>
 *   <li>Java to Python: {@link #share} registers a connection with this sharer and returns the
 *       {@link PyObject} to put in a message sent with the pickle codec; Python's {@code recv()}
 *       gives a working {@code multiprocessing.connection.Connection}.
 *   <li>Python to Java: decode with a codec built by {@link #allowConnections}; the connection
 *       arrives as a {@link PyObject}, which {@link #rebuild} turns into a {@link Connection}.
 * </ul>
 *
 * <p>Both sides must use the same authkey: a Python child started by
 * {@code dev.ferry.handle.ChildProcess} has {@code ChildProcess.authKey()} set as its
 * multiprocessing authkey by {@code ferry_child.connect_to_parent()}; any other Python process must
 * set {@code multiprocessing.current_process().authkey = key} itself, before it pickles or
 * unpickles a connection.
 *
 * <p>A codec built with {@link PickleCodec.Builder#connections} does both for every connection in
 * a message, at any depth; the methods here are for a codec without it.
 *
 * <p>The sharer listens on a Linux abstract address on a thread named {@code ferry-sharer-N}.
 * A shared reference that nobody fetches within the claim timeout ({@link #DEFAULT_CLAIM_TIMEOUT}
 * unless given to {@link #start(AuthKey, Duration)}) is dropped: a moved or copied connection is
 * then closed, and a later fetch sees end of stream, as for a reference fetched twice.
 * {@link #close()} stops the sharer and closes the moved connections nobody fetched.
 */
public final class ResourceSharer implements AutoCloseable {
  static final String REBUILD = "multiprocessing.connection.rebuild_connection";
  static final String DUP_FD = "multiprocessing.resource_sharer.DupFd";

  /** How long a shared reference waits to be fetched unless configured: one minute. */
  public static final Duration DEFAULT_CLAIM_TIMEOUT = Duration.ofMinutes(1);

  /** How long a fetch may take, each way: a peer that stalls longer is dropped. */
  static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);

  private static final AtomicInteger THREADS = new AtomicInteger();
  private static final System.Logger LOG = System.getLogger(ResourceSharer.class.getName());

  private record Shared(Connection end, Ownership ownership, long deadline) {}

  private final Listener listener;
  private final AuthKey authKey;
  private final Duration claimTimeout;
  private final PickleCodec codec = PickleCodec.standard();
  private final Map<Integer, Shared> shared = new ConcurrentHashMap<>();
  private final AtomicInteger keys = new AtomicInteger();
  private final Thread thread;
  private volatile boolean closed;

  private ResourceSharer(Listener listener, AuthKey authKey, Duration claimTimeout) {
    this.listener = listener;
    this.authKey = authKey;
    this.claimTimeout = claimTimeout;
    this.thread = new Thread(this::serve, "ferry-sharer-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
  }

  /**
   * Starts a sharer whose clients authenticate with {@code authKey} (Python:
   * {@code current_process().authkey}), dropping references unclaimed for
   * {@link #DEFAULT_CLAIM_TIMEOUT}.
   */
  public static ResourceSharer start(AuthKey authKey) throws IOException {
    return start(authKey, DEFAULT_CLAIM_TIMEOUT);
  }

  /**
   * Starts a sharer whose clients authenticate with {@code authKey}, dropping references nobody
   * fetched within {@code claimTimeout}.
   *
   * @throws IllegalArgumentException if {@code claimTimeout} is not positive
   */
  public static ResourceSharer start(AuthKey authKey, Duration claimTimeout) throws IOException {
    Objects.requireNonNull(authKey, "authKey");
    Objects.requireNonNull(claimTimeout, "claimTimeout");
    if (claimTimeout.isNegative() || claimTimeout.isZero()) {
      throw new IllegalArgumentException("claimTimeout not positive: " + claimTimeout);
    }
    Address address = new Address.Abstract("ferry-sharer-" + ProcessHandle.current().pid() + "-"
        + HexFormat.of().formatHex(AuthKey.random().bytes(), 0, 8));
    Listener listener = Listener.bind(address, ConnectionOptions.builder().authKey(authKey)
        .handshakeTimeout(FETCH_TIMEOUT).build());
    ResourceSharer sharer = new ResourceSharer(listener, authKey, claimTimeout);
    sharer.thread.start();
    return sharer;
  }

  /** The key this sharer's clients, and the sharers it fetches from, authenticate with. */
  AuthKey authKey() {
    return authKey;
  }

  /** Adds the names of a pickled connection to {@code builder}'s allow-list. */
  public static PickleCodec.Builder allowConnections(PickleCodec.Builder builder) {
    return builder.allow(REBUILD, DUP_FD);
  }

  /**
   * Registers {@code end} (a {@link Connection}, or a one-way pipe's
   * {@link dev.ferry.Receiver} or {@link dev.ferry.Sender}) and returns its pickled form. With
   * {@link Ownership#MOVE} this process's copy is closed (without shutdown) once Python has
   * fetched it, once the claim timeout has passed, or when this sharer closes; with
   * {@code DUPLICATE} it stays open, and must stay open until Python has fetched it. (A codec
   * built with {@link PickleCodec.Builder#connections} shares a duplicate instead, as CPython
   * does, and the caller's copy is its own at once.)
   */
  public PyObject share(AutoCloseable end, Ownership ownership) {
    Objects.requireNonNull(ownership, "ownership");
    if (!(end instanceof Connection connection)) {
      throw new IllegalArgumentException("not a ferry connection: " + end);
    }
    return register(connection, ownership);
  }

  /**
   * Shares a duplicate of {@code end}'s descriptor, as CPython's {@code DupFd} does: the caller
   * keeps its own copy (which from now on closes without shutting the socket down), the sharer
   * closes the duplicate once fetched or dropped.
   *
   * @throws IllegalArgumentException if {@code end} is not a Unix socket connection
   */
  PyObject shareCopy(Connection end) throws IOException {
    if (closed) throw new IllegalStateException("sharer is closed");
    return register(Descriptors.duplicate(end), Ownership.MOVE);
  }

  private PyObject register(Connection end, Ownership ownership) {
    if (closed) throw new IllegalStateException("sharer is closed");
    int key = keys.incrementAndGet();
    shared.put(key, new Shared(end, ownership, System.nanoTime() + claimTimeout.toNanos()));
    if (closed) release(shared.remove(key)); // close() ran meanwhile and missed this one
    String address = "\0" + ((Address.Abstract) listener.address()).name();
    Map<String, Object> state = Map.of("_id", PyTuple.of(address, key));
    PyObject dupFd = PyObject.of(PyGlobal.parse(DUP_FD), PyObject.Construction.NEW,
        PyTuple.empty(), state);
    return PyObject.call(REBUILD, dupFd, end.isReadable(), end.isWritable());
  }

  /** Drops a reference {@link #shareCopy} made, for a pickle that failed after it. */
  void withdraw(PyObject form) {
    if (form.args().get(0) instanceof PyObject dupFd && dupFd.state() instanceof Map<?, ?> state
        && state.get("_id") instanceof PyTuple id && id.get(1) instanceof Integer key) {
      release(shared.remove(key));
    }
  }

  /** Closes a dropped reference's end if this sharer owns it. */
  private static void release(Shared s) {
    if (s == null || s.ownership() != Ownership.MOVE) return;
    try {
      s.end().close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "resource sharer: closing a dropped connection", e);
    }
  }

  private static Access access(boolean readable, boolean writable) {
    return readable && writable ? Access.DUPLEX
        : readable ? Access.READ_ONLY : Access.WRITE_ONLY;
  }

  private void serve() {
    while (!closed) {
      dropUnclaimed();
      try (Connection client = listener.accept(untilNextDeadline())) {
        if (!client.poll(FETCH_TIMEOUT)) continue; // a silent client holds the others up no longer
        Object message = client.receive(codec);
        if (!(message instanceof PyTuple t) || t.size() != 2
            || !(t.get(0) instanceof Integer key)) {
          continue;
        }
        Shared s = shared.remove(key);
        if (s == null) continue; // fetched already, or dropped: the client sees end of stream
        try {
          Handles.sendConnection(client, s.end(), s.ownership());
        } finally {
          release(s); // MOVE closed it already when the send went out; not when it failed
        }
      } catch (SocketTimeoutException e) {
        // Time to look for unclaimed references.
      } catch (ConnectionClosedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        // One failed fetch (bad key, client gone) must not stop the sharer.
        LOG.log(System.Logger.Level.DEBUG, "resource sharer: fetch failed", e);
      }
    }
  }

  private Duration untilNextDeadline() {
    long now = System.nanoTime();
    long next = now + claimTimeout.toNanos();
    for (Shared s : shared.values()) next = Math.min(next, s.deadline());
    return Duration.ofNanos(Math.max(next - now, 1_000_000L));
  }

  private void dropUnclaimed() {
    long now = System.nanoTime();
    for (Map.Entry<Integer, Shared> e : shared.entrySet()) {
      if (now - e.getValue().deadline() >= 0 && shared.remove(e.getKey(), e.getValue())) {
        LOG.log(System.Logger.Level.DEBUG, "resource sharer: dropped unclaimed reference {0}",
            e.getKey());
        release(e.getValue());
      }
    }
  }

  /**
   * Fetches the connection a Python pickle refers to: {@code pickled} is the {@link PyObject}
   * {@code rebuild_connection(DupFd, readable, writable)} decoded by a codec that
   * {@link #allowConnections allows} it. Python: unpickling it.
   *
   * <p>Connecting, the handshake and the wait for the descriptor are each bounded by 10 s. The
   * descriptor may be a Unix socket or a pipe end (either end of Python's
   * {@code Pipe(duplex=False)}): see {@link Handles#receiveConnection}.
   *
   * @throws CodecException if {@code pickled} is not a pickled connection
   * @throws dev.ferry.AuthenticationException if the authkeys differ
   * @throws EOFException if the sharer has no such reference (fetched already, or dropped)
   * @throws SocketTimeoutException if the sharer sends nothing in time
   */
  public static Connection rebuild(Object pickled, AuthKey authKey) throws IOException {
    Objects.requireNonNull(authKey, "authKey");
    if (!(pickled instanceof PyObject call) || !call.type().qualifiedName().equals(REBUILD)
        || call.args().size() != 3 || !(call.args().get(0) instanceof PyObject dupFd)
        || !dupFd.type().qualifiedName().equals(DUP_FD)
        || !(dupFd.state() instanceof Map<?, ?> state)
        || !(state.get("_id") instanceof PyTuple id) || id.size() != 2
        || !(id.get(0) instanceof String address)) {
      throw new CodecException("not a pickled connection: " + pickled);
    }
    boolean readable = Boolean.TRUE.equals(call.args().get(1));
    boolean writable = Boolean.TRUE.equals(call.args().get(2));
    Address sharer = address.startsWith("\0")
        ? new Address.Abstract(address.substring(1)) : new Address.Unix(Path.of(address));
    ConnectionOptions options = ConnectionOptions.builder().authKey(authKey)
        .connectTimeout(FETCH_TIMEOUT).handshakeTimeout(FETCH_TIMEOUT).build();
    try (Connection c = Client.connect(sharer, options)) {
      c.send(PyTuple.of(id.get(1), ProcessHandle.current().pid()), PickleCodec.standard());
      if (!c.poll(FETCH_TIMEOUT)) {
        throw new SocketTimeoutException("resource sharer " + sharer + " sent nothing in "
            + FETCH_TIMEOUT.toSeconds() + " s");
      }
      return Handles.receiveConnection(c, access(readable, writable));
    } catch (EOFException e) {
      throw new EOFException("resource sharer " + sharer + " has no connection " + id.get(1)
          + " (fetched already, or dropped)");
    }
  }

  /** Stops serving; closes the moved connections nobody fetched. Idempotent. */
  @Override
  public void close() throws IOException {
    if (closed) return;
    closed = true;
    try {
      listener.close();
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while stopping the resource sharer");
    } finally {
      for (Integer key : shared.keySet()) release(shared.remove(key));
    }
  }
}
