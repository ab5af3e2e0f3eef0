package dev.ferry;

import dev.ferry.async.AsyncConnection;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.wait.WaitEngine;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A set of objects to wait on that stays registered between calls: connections and pipe ends of
 * every transport, listeners, and processes ({@link Process} or {@link ProcessHandle}). Where
 * {@link Wait#ready} registers every object on each call, a wait set registers each once, so a
 * call costs about the same with one object ready among 10,000 as among 10 (on TCP; see below).
 *
 * <pre>{@code
 * try (WaitSet<Connection> workers = WaitSet.open()) {
 *   for (Connection c : connections) workers.add(c);
 *   while (true) {
 *     for (Connection ready : workers.ready(Duration.ofSeconds(1))) {
 *       try {
 *         handle(ready.receiveBytes());
 *       } catch (EOFException e) {
 *         workers.remove(ready);
 *         ready.close();
 *       }
 *     }
 *   }
 * }
 * }</pre>
 *
 * <p>A member is ready when a receive would not block: a message or part of one has arrived (on
 * the socket or already read ahead into the connection's buffer by an earlier receive or poll),
 * the peer closed, the socket failed, or the connection was closed or made write-only on this side
 * (its receive then throws at once); when a listener has a client or a failure waiting, or was
 * closed; when a process has exited. A member stays ready, call after call, until whatever made it
 * ready has been consumed: remove members that ended.
 *
 * <p><b>Cost.</b> TCP sockets wait on the JDK's epoll selector: a call costs what the ready members
 * cost, however many are idle. Unix sockets and pipes wait on junixsocket's selector, which calls
 * poll(2) over every registered socket each time it selects. A set whose calls would pay that
 * (from its second call, with 64 or more of them registered, or at once when the set also holds
 * TCP sockets and must block on both) hands their selector to a thread of its own, named
 * {@code ferry-wait-N}, which lives as long as the set: it polls in the background, switches off
 * each socket it reports and passes it on; a call then looks only at the sockets passed on (and
 * at members that have input buffered), each with one non-blocking read into the connection's
 * read-ahead buffer, and hands back those that turn out empty to be watched again. The poll over
 * every socket then runs once per batch of arrivals, on that thread, not once per call. What such
 * a read takes waits in the buffer for the next receive; a socket error it meets shows there as
 * the end of the stream. A set used for one call ({@link Wait#ready}) starts no thread unless it
 * must block on both kinds.
 *
 * <p><b>Threads.</b> {@link #add}, {@link #remove} and {@link #close} may be called from any
 * thread, also while another thread waits in {@code ready}: a member added then is watched from
 * then on (the waiting call wakes if it is ready), and one removed may still be in the result of a
 * call already under way. One thread at a time may wait in {@code ready}. Members may be received
 * from by any thread; a receive that leaves whole or partial messages in a connection's buffer
 * wakes a waiting call.
 *
 * <p>Closing the set does not close its members. Python has no equivalent; it is what
 * {@code selectors.DefaultSelector} is to {@code multiprocessing.connection.wait}.
 *
 * @param <T> what the set holds, for example {@link Connection} or {@link Object} for a mix
 */
public final class WaitSet<T> implements AutoCloseable {
  /** See {@link WaitEngine#BACKGROUND_MEMBERS}. */
  static final int BACKGROUND_MEMBERS = WaitEngine.BACKGROUND_MEMBERS;

  private final WaitEngine<T> engine;

  private WaitSet(WaitEngine<T> engine) {
    this.engine = engine;
  }

  /** An empty, open set. */
  public static <T> WaitSet<T> open() {
    return new WaitSet<>(WaitEngine.open());
  }

  /**
   * For tests and measurements: a set whose poll-based groups move to a background poller from
   * call {@code calls} on (1: the first), once they hold {@code members} or more.
   */
  static <T> WaitSet<T> openPollingInBackground(long calls, int members) {
    return new WaitSet<>(WaitEngine.openPollingInBackground(calls, members));
  }

  /**
   * Adds {@code object}, to be watched from now on. Does not block.
   *
   * @throws IllegalArgumentException for an object of another type, or one in the set already
   * @throws ConnectionClosedException if the connection or listener is closed
   * @throws IllegalStateException if the connection is write-only or receives asynchronously
   *     ({@link AsyncConnection}), or the set is closed
   */
  public void add(T object) throws IOException {
    if (!engine.tryAdd(object)) throw new IllegalArgumentException("already in the set: " + object);
  }

  /**
   * Removes {@code object} from the set; false if it was not in it. Does not close it and does
   * not block.
   */
  public boolean remove(Object object) {
    return engine.remove(object);
  }

  /** How many objects the set holds. */
  public int size() {
    return engine.size();
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return engine.isClosed();
  }

  /** Waits with no time limit until at least one member is ready; see {@link #ready(Duration)}. */
  public List<T> ready() throws IOException {
    return engine.ready(Deadlines.NONE);
  }

  /**
   * Returns the members that are ready, in the order they were added, waiting up to
   * {@code timeout} for the first; an empty list when the time runs out, or when the set was
   * closed meanwhile. {@link Duration#ZERO} (or negative) checks once without blocking. An empty
   * set sleeps for the whole timeout, unless a member is added meanwhile and becomes ready.
   *
   * @throws IllegalStateException if the set is closed, or another thread is waiting in it
   * @throws InterruptedIOException if the thread is interrupted, on entry or while waiting (its
   *     interrupt flag stays set); every member stays open with its input
   */
  public List<T> ready(Duration timeout) throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return engine.ready(Deadlines.after(timeout));
  }

  /**
   * Closes the set: a thread waiting in {@link #ready} returns what is ready (likely nothing), its
   * poller threads end, and its selectors close. The members stay open. Idempotent.
   */
  @Override
  public void close() throws IOException {
    engine.close();
  }

  @Override
  public String toString() {
    return "WaitSet[" + size() + " members" + (isClosed() ? ", closed" : "") + "]";
  }
}
