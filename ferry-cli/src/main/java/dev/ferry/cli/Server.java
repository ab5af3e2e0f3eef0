package dev.ferry.cli;

import dev.ferry.AuthenticationException;
import dev.ferry.Connection;
import dev.ferry.FramingException;
import dev.ferry.Listener;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The accept loop behind {@code echo} and {@code listen}: one thread per client, named
 * {@code ferry-<command>-N}. A client that fails authentication or breaks the protocol is dropped
 * with one line on stderr; the others carry on.
 *
 * <p>The core's {@link Listener#accept()} runs the handshake before it returns, so a client that
 * connects and stays silent holds up newcomers for at most the handshake timeout.
 */
final class Server {
  private static final System.Logger LOG = System.getLogger(Server.class.getName());

  /** After an accept failure that isn't one client's fault (out of descriptors, say). */
  private static final long ACCEPT_FAILURE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** Serves one client until it closes; an {@link EOFException} is the normal end. */
  interface Session {
    void serve(Connection connection) throws IOException;
  }

  private final Listener listener;
  private final String threadPrefix;
  private final PrintWriter err;
  private final Session session;
  private final int maxConnections;

  private final Set<Connection> open = ConcurrentHashMap.newKeySet();
  private volatile boolean stopping;

  /** {@code maxConnections} 0 means no limit. */
  Server(Listener listener, String threadPrefix, PrintWriter err, int maxConnections,
      Session session) {
    this.listener = listener;
    this.threadPrefix = threadPrefix;
    this.err = err;
    this.maxConnections = maxConnections;
    this.session = session;
  }

  /**
   * Accepts clients until {@link #stop()} or until {@code maxConnections} clients were accepted,
   * then closes the listener (removing a socket file) and waits for the clients' threads.
   */
  void run() throws InterruptedException {
    List<Thread> threads = new ArrayList<>();
    try {
      while (maxConnections == 0 || threads.size() < maxConnections) {
        Connection connection;
        try {
          connection = listener.accept();
        } catch (IOException | RuntimeException e) {
          if (stopping || listener.isClosed()) break;
          drop(e);
          if (!isOneClientsFault(e)) LockSupport.parkNanos(ACCEPT_FAILURE_PAUSE_NANOS);
          continue;
        }
        open.add(connection);
        if (stopping) { // stop() may have closed the others before this one was added
          closeQuietly(connection);
          break;
        }
        Thread thread = new Thread(() -> serve(connection), threadPrefix + (threads.size() + 1));
        threads.add(thread);
        thread.start();
      }
    } finally {
      closeListener();
    }
    for (Thread thread : threads) thread.join();
  }

  /**
   * Stops accepting, removes a socket file and closes every client connection. Safe from any
   * thread, including a shutdown hook.
   */
  void stop() {
    stopping = true;
    closeListener();
    for (Connection connection : open) closeQuietly(connection);
  }

  private void serve(Connection connection) {
    try {
      session.serve(connection);
    } catch (EOFException e) {
      // The client closed between messages: it is done.
    } catch (IOException | RuntimeException e) {
      if (!stopping) drop(e);
    } finally {
      open.remove(connection);
      closeQuietly(connection);
    }
  }

  /** Closing a client can only fail on the way out; nothing is left to report it to. */
  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing a client", e);
    }
  }

  private void closeListener() {
    try {
      listener.close();
    } catch (IOException e) {
      err.println("cannot close listener: " + Failures.describe(e));
      err.flush();
    }
  }

  private void drop(Throwable e) {
    LOG.log(System.Logger.Level.DEBUG, "dropped client", e);
    // "dropped client: digest received was wrong" says enough; it is CPython's wording too.
    String reason = e instanceof AuthenticationException ? e.getMessage() : Failures.describe(e);
    err.println("dropped client: " + reason);
    err.flush();
  }

  private static boolean isOneClientsFault(Throwable e) {
    return e instanceof AuthenticationException || e instanceof SocketTimeoutException
        || e instanceof EOFException || e instanceof FramingException
        || e instanceof UnsupportedOperationException; // the handshake placeholder
  }
}
