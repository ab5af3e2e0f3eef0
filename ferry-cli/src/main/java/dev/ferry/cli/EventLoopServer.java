package dev.ferry.cli;

import dev.ferry.AuthenticationException;
import dev.ferry.Connection;
import dev.ferry.FramingException;
import dev.ferry.Listener;
import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The server behind {@code echo} and {@code listen}: every client on a few event-loop threads
 * ({@link EventLoops}, {@code ferry-loop-N}) instead of a thread each, so that thousands of clients
 * cost a few KiB each and no extra threads. The calling thread accepts (the listener's own thread
 * runs the handshakes); each client then takes one message at a time: receive, {@link Handler},
 * receive again once the handler's future completed. A client that is slow to read or to send
 * holds up only itself.
 *
 * <p>A client that fails authentication or breaks the protocol is dropped with one line on stderr;
 * the others carry on. Lines go through {@link Lines}, never from a loop thread.
 */
final class EventLoopServer {
  private static final System.Logger LOG = System.getLogger(EventLoopServer.class.getName());

  /** After an accept failure that isn't one client's fault (out of descriptors, say). */
  private static final long ACCEPT_FAILURE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** Loops per kind of socket (Unix, TCP): enough to spread the work, a fixed few threads. */
  static final int LOOPS_PER_KIND = Math.max(1, Math.min(4,
      Runtime.getRuntime().availableProcessors()));

  /**
   * What the server does with one message of a client. It runs on the client's loop thread and
   * must not block there; the next message is received once the returned future completes. A
   * future that fails drops the client with its reason ({@link MessageCodec.RefusedMessage} is no
   * failure: see {@link #refusedLine}).
   */
  interface Handler {
    CompletableFuture<Void> handle(AsyncConnection client, byte[] message);
  }

  private final Listener listener;
  private final PrintWriter err;
  private final Lines lines;
  private final int maxConnections;
  private final Handler handler;

  private final Set<AsyncConnection> open = ConcurrentHashMap.newKeySet();
  /** Guards {@link #active}: clients being served; the accepting thread waits for zero. */
  private final Object activeLock = new Object();
  private int active;
  private volatile boolean stopping;

  /** {@code maxConnections} 0 means no limit; {@code lines} prints for the handler too. */
  EventLoopServer(Listener listener, PrintWriter err, Lines lines, int maxConnections,
      Handler handler) {
    this.listener = listener;
    this.err = err;
    this.lines = lines;
    this.maxConnections = maxConnections;
    this.handler = handler;
  }

  /**
   * Accepts clients until {@link #stop()} or until {@code maxConnections} clients were accepted,
   * then closes the listener (removing a socket file) and waits until every client has ended.
   */
  void run() throws InterruptedException {
    try (EventLoops loops = EventLoops.open(LOOPS_PER_KIND)) {
      int accepted = 0;
      try {
        while (maxConnections == 0 || accepted < maxConnections) {
          Connection connection;
          try {
            connection = listener.accept();
          } catch (IOException | RuntimeException e) {
            if (stopping || listener.isClosed()) break;
            drop(e);
            if (!isOneClientsFault(e)) LockSupport.parkNanos(ACCEPT_FAILURE_PAUSE_NANOS);
            continue;
          }
          accepted++;
          if (!start(connection, loops)) break;
        }
      } finally {
        closeListener();
      }
      synchronized (activeLock) {
        while (active > 0) activeLock.wait();
      }
    }
  }

  /**
   * Stops accepting, removes a socket file and closes every client connection. Safe from any
   * thread, including a shutdown hook.
   */
  void stop() {
    stopping = true;
    closeListener();
    for (AsyncConnection client : open) closeQuietly(client);
  }

  /** Hands {@code connection} to a loop; false if the server is stopping. */
  private boolean start(Connection connection, EventLoops loops) {
    AsyncConnection client = AsyncConnection.of(connection, loops);
    synchronized (activeLock) {
      active++;
    }
    open.add(client);
    if (stopping) { // stop() may have closed the others before this one was added
      end(client, null);
      return false;
    }
    serveNext(client);
    return true;
  }

  /** Receive, handle, again: each step continues on the client's loop when the last completes. */
  private void serveNext(AsyncConnection client) {
    client.receiveAsync()
        .thenCompose(message -> handler.handle(client, message))
        .whenComplete((done, failure) -> {
          Throwable cause = unwrap(failure);
          if (cause == null) {
            serveNext(client);
          } else if (cause instanceof MessageCodec.RefusedMessage refused) {
            lines.print(err, refusedLine(refused));
            serveNext(client);
          } else {
            end(client, cause);
          }
        });
  }

  /** The line for a message echo answered with a Python exception; the client stays. */
  static String refusedLine(MessageCodec.RefusedMessage refused) {
    return "refused message: " + refused.getMessage();
  }

  private void end(AsyncConnection client, Throwable failure) {
    // EOFException: the client closed between messages, it is done.
    if (failure != null && !(failure instanceof EOFException) && !stopping) drop(failure);
    open.remove(client);
    closeQuietly(client);
    synchronized (activeLock) {
      if (--active == 0) activeLock.notifyAll();
    }
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  /** Closing a client can only fail on the way out; nothing is left to report it to. */
  private static void closeQuietly(AsyncConnection client) {
    try {
      client.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing a client", e);
    }
  }

  private void closeListener() {
    try {
      listener.close();
    } catch (IOException e) {
      lines.print(err, "cannot close listener: " + Failures.describe(e));
    }
  }

  private void drop(Throwable e) {
    LOG.log(System.Logger.Level.DEBUG, "dropped client", e);
    // "dropped client: digest received was wrong" says enough; it is CPython's wording too.
    String reason = e instanceof AuthenticationException ? e.getMessage() : Failures.describe(e);
    lines.print(err, "dropped client: " + reason);
  }

  private static boolean isOneClientsFault(Throwable e) {
    return e instanceof AuthenticationException || e instanceof SocketTimeoutException
        || e instanceof EOFException || e instanceof FramingException
        || e instanceof UnsupportedOperationException; // the handshake placeholder
  }
}
