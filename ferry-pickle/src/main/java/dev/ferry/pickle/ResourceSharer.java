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
import java.io.IOException;
import java.nio.file.Path;
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
 * <p>The sharer listens on a Linux abstract address on a thread named {@code ferry-sharer-N}.
 * {@link #close()} stops it and closes the moved connections nobody fetched.
 */
public final class ResourceSharer implements AutoCloseable {
  static final String REBUILD = "multiprocessing.connection.rebuild_connection";
  static final String DUP_FD = "multiprocessing.resource_sharer.DupFd";
  private static final AtomicInteger THREADS = new AtomicInteger();

  private record Shared(Connection end, Ownership ownership) {}

  private final Listener listener;
  private final PickleCodec codec = PickleCodec.standard();
  private final Map<Integer, Shared> shared = new ConcurrentHashMap<>();
  private final AtomicInteger keys = new AtomicInteger();
  private final Thread thread;
  private volatile boolean closed;

  private ResourceSharer(Listener listener) {
    this.listener = listener;
    this.thread = new Thread(this::serve, "ferry-sharer-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
  }

  /** Starts a sharer whose clients authenticate with {@code authKey}. */
  public static ResourceSharer start(AuthKey authKey) throws IOException {
    Objects.requireNonNull(authKey, "authKey");
    Address address = new Address.Abstract("ferry-sharer-" + ProcessHandle.current().pid() + "-"
        + HexFormat.of().formatHex(AuthKey.random().bytes(), 0, 8));
    ResourceSharer sharer = new ResourceSharer(
        Listener.bind(address, ConnectionOptions.builder().authKey(authKey).build()));
    sharer.thread.start();
    return sharer;
  }

  /** Adds the names of a pickled connection to {@code builder}'s allow-list. */
  public static PickleCodec.Builder allowConnections(PickleCodec.Builder builder) {
    return builder.allow(REBUILD, DUP_FD);
  }

  /**
   * Registers {@code end} (a {@link Connection}, or a one-way pipe's
   * {@link dev.ferry.Receiver} or {@link dev.ferry.Sender}) and returns its pickled form. With
   * {@link Ownership#MOVE} this process's copy is closed (without shutdown) once Python has
   * fetched it, or when this sharer closes; with {@code DUPLICATE} it stays open.
   */
  public PyObject share(AutoCloseable end, Ownership ownership) {
    Objects.requireNonNull(ownership, "ownership");
    if (!(end instanceof Connection connection)) {
      throw new IllegalArgumentException("not a ferry connection: " + end);
    }
    if (closed) throw new IllegalStateException("sharer is closed");
    int key = keys.incrementAndGet();
    shared.put(key, new Shared(connection, ownership));
    String address = "\0" + ((Address.Abstract) listener.address()).name();
    Map<String, Object> state = Map.of("_id", PyTuple.of(address, key));
    PyObject dupFd = PyObject.of(PyGlobal.parse(DUP_FD), PyObject.Construction.NEW,
        PyTuple.empty(), state);
    return PyObject.call(REBUILD, dupFd, connection.isReadable(), connection.isWritable());
  }

  private void serve() {
    while (!closed) {
      try (Connection client = listener.accept()) {
        Object message = client.receive(codec);
        if (!(message instanceof PyTuple t) || t.size() != 2 || !(t.get(0) instanceof Integer key)) {
          continue;
        }
        Shared s = shared.remove(key);
        if (s == null) continue; // fetched already: the client sees end of stream
        Handles.sendConnection(client, s.end(), s.ownership());
      } catch (ConnectionClosedException e) {
        return;
      } catch (IOException | RuntimeException e) {
        // One failed fetch (bad key, client gone) must not stop the sharer.
        System.getLogger(ResourceSharer.class.getName()).log(System.Logger.Level.DEBUG,
            "resource sharer: fetch failed", e);
      }
    }
  }

  /**
   * Fetches the connection a Python pickle refers to: {@code pickled} is the {@link PyObject}
   * {@code rebuild_connection(DupFd, readable, writable)} decoded by a codec that
   * {@link #allowConnections allows} it. Python: unpickling it.
   *
   * @throws CodecException if {@code pickled} is not a pickled connection
   * @throws dev.ferry.AuthenticationException if the authkeys differ
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
    try (Connection c = Client.connect(sharer, ConnectionOptions.builder().authKey(authKey).build())) {
      c.send(PyTuple.of(id.get(1), ProcessHandle.current().pid()), PickleCodec.standard());
      Access access = readable && writable ? Access.DUPLEX
          : readable ? Access.READ_ONLY : Access.WRITE_ONLY;
      return Handles.receiveConnection(c, access);
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
      throw new java.io.InterruptedIOException("interrupted while stopping the resource sharer");
    } finally {
      for (Shared s : shared.values()) {
        if (s.ownership() == Ownership.MOVE) s.end().close();
      }
      shared.clear();
    }
  }
}
