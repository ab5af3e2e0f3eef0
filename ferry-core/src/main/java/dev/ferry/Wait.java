package dev.ferry;

import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.wait.WaitEngine;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Waits on many objects at once: connections and pipe ends of every transport, listeners, and
 * processes ({@link Process} or {@link ProcessHandle}).
 *
 * <pre>{@code
 * for (Receiver ready : Wait.ready(workers, Duration.ofSeconds(1))) {
 *   handle(ready.receiveBytes());
 * }
 * }</pre>
 *
 * An object is ready when a receive would not block (a message or part of one has arrived, the
 * peer closed, or the socket failed), when a listener has a client waiting, or when a process has
 * exited. Frames already read ahead into a connection's buffer count as ready. An empty list
 * waits the whole timeout (without one, until the thread is interrupted), as CPython's does.
 *
 * <p>Each call registers every object and drops the registrations when it returns, so its cost
 * grows with the number of objects: to wait on the same objects again and again, keep them in a
 * {@link WaitSet}, whose calls cost what the ready objects cost. Unix sockets and TCP sockets live
 * in different selector implementations that cannot share a selector; a list mixing them is
 * watched by one short-lived thread per extra kind, named {@code ferry-wait-N}, which is gone when
 * the call returns.
 *
 * <p>Python: {@code multiprocessing.connection.wait(object_list, timeout)}.
 */
public final class Wait {
  private Wait() {}

  /**
   * Waits with no time limit until at least one object is ready; given no objects, until the
   * thread is interrupted.
   */
  public static <T> List<T> ready(Collection<? extends T> objects) throws IOException {
    return ready(objects, Deadlines.NONE);
  }

  /**
   * Returns the objects that are ready, in the order given, waiting up to {@code timeout} for the
   * first; an empty list when the time runs out. {@link Duration#ZERO} (or negative) checks once
   * without blocking.
   *
   * @throws IllegalArgumentException for an object of another type, or one listed twice
   * @throws ConnectionClosedException if a connection or listener in the list is closed
   * @throws InterruptedIOException if the thread is interrupted, on entry or while waiting (its
   *     interrupt flag stays set); every object stays open with its input
   */
  public static <T> List<T> ready(Collection<? extends T> objects, Duration timeout)
      throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return ready(objects, Deadlines.after(timeout));
  }

  private static <T> List<T> ready(Collection<? extends T> objects, long deadline)
      throws IOException {
    Objects.requireNonNull(objects, "objects");
    // A set for one call: it registers every object, so a call costs O(objects). Callers that
    // wait on the same objects again and again keep a WaitSet instead. With no objects it sleeps
    // until the deadline: a server loop whose connections all ended must not spin a core.
    try (WaitEngine<T> set = WaitEngine.open()) {
      for (T object : objects) {
        Objects.requireNonNull(object, "objects contains null");
        if (!set.tryAdd(object)) throw new IllegalArgumentException("object listed twice: " + object);
      }
      return set.ready(deadline);
    }
  }
}
