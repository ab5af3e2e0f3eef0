package dev.ferry;

import dev.ferry.internal.transport.Deadlines;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

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
 * exited. Frames already read ahead into a connection's buffer count as ready.
 *
 * <p>Unix sockets and TCP sockets live in different selector implementations that cannot share a
 * selector; a set mixing them is watched by one short-lived thread per extra kind, named
 * {@code ferry-wait}, which is gone when the call returns.
 *
 * <p>Python: {@code multiprocessing.connection.wait(object_list, timeout)}.
 */
public final class Wait {
  private Wait() {}

  /** Waits with no time limit until at least one object is ready. */
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
   */
  public static <T> List<T> ready(Collection<? extends T> objects, Duration timeout)
      throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return ready(objects, Deadlines.after(timeout));
  }

  private static <T> List<T> ready(Collection<? extends T> objects, long deadline)
      throws IOException {
    Objects.requireNonNull(objects, "objects");
    Map<T, Object> seen = new IdentityHashMap<>();
    List<T> immediate = new ArrayList<>();
    Map<SelectorProvider, List<T>> groups = new LinkedHashMap<>();
    List<T> watched = new ArrayList<>(); // processes and listeners: they call back when ready
    for (T object : objects) {
      Objects.requireNonNull(object, "objects contains null");
      if (seen.put(object, object) != null) {
        throw new IllegalArgumentException("object listed twice: " + object);
      }
      if (object instanceof Endpoint endpoint) {
        if (endpoint.isClosed()) throw new ConnectionClosedException("connection is closed");
        if (!endpoint.isReadable()) throw new IllegalStateException("connection is write-only");
        if (endpoint.hasBufferedInput()) immediate.add(object);
        groups.computeIfAbsent(endpoint.selectorProvider(), p -> new ArrayList<>())
            .add(object);
      } else if (object instanceof Listener listener) {
        if (listener.isClosed()) throw new ConnectionClosedException("listener is closed");
        watched.add(object);
      } else if (object instanceof Process || object instanceof ProcessHandle) {
        watched.add(object);
      } else {
        throw new IllegalArgumentException("cannot wait on " + object.getClass().getName()
            + ": expected a Receiver, Listener, Process or ProcessHandle");
      }
    }
    for (T object : watched) {
      if (isReady(object)) immediate.add(object);
    }
    // Something is ready already: report everything ready now without blocking.
    long effective = immediate.isEmpty() ? deadline : System.nanoTime();
    List<T> selected = select(groups, watched, effective);
    List<T> result = new ArrayList<>();
    for (T object : objects) {
      if (containsIdentity(immediate, object) || containsIdentity(selected, object)) {
        result.add(object);
      }
    }
    return result;
  }

  private static boolean containsIdentity(List<?> list, Object object) {
    for (Object o : list) if (o == object) return true;
    return false;
  }

  private static ProcessHandle handle(Object process) {
    return process instanceof Process p ? p.toHandle() : (ProcessHandle) process;
  }

  private static boolean isReady(Object watched) {
    return watched instanceof Listener listener ? listener.hasResult() : !handle(watched).isAlive();
  }

  /** Calls {@code onReady} once {@code watched} is ready; returns how to stop watching. */
  private static Runnable watch(Object watched, Runnable onReady) {
    if (watched instanceof Listener listener) {
      listener.watchers().add(onReady);
      if (listener.hasResult()) onReady.run(); // a result may have come before we listened
      return () -> listener.watchers().remove(onReady);
    }
    CompletableFuture<?> exit = handle(watched).onExit().thenRun(onReady);
    return () -> exit.cancel(false);
  }

  private static <T> List<T> select(Map<SelectorProvider, List<T>> groups, List<T> watched,
      long deadline) throws IOException {
    List<Round<T>> rounds = new ArrayList<>();
    try {
      for (Map.Entry<SelectorProvider, List<T>> group : groups.entrySet()) {
        rounds.add(new Round<>(group.getKey(), group.getValue()));
      }
      if (rounds.isEmpty() && watched.isEmpty()) return List.of();
      AtomicBoolean done = new AtomicBoolean();
      Thread waiter = Thread.currentThread();
      Runnable wakeAll = () -> {
        done.set(true);
        for (Round<T> round : rounds) round.selector.wakeup();
        java.util.concurrent.locks.LockSupport.unpark(waiter);
      };
      List<T> woken = new ArrayList<>();
      List<Runnable> unwatch = new ArrayList<>();
      for (T object : watched) {
        unwatch.add(watch(object, () -> {
          synchronized (woken) {
            if (!containsIdentity(woken, object)) woken.add(object);
          }
          wakeAll.run();
        }));
      }
      try {
        if (rounds.isEmpty()) {
          awaitCallbacks(done, deadline);
        } else {
          List<Thread> helpers = new ArrayList<>();
          for (Round<T> round : rounds.subList(1, rounds.size())) {
            Thread t = new Thread(() -> round.run(deadline, done, wakeAll), "ferry-wait");
            t.setDaemon(true);
            helpers.add(t);
            t.start();
          }
          rounds.get(0).run(deadline, done, wakeAll);
          wakeAll.run();
          for (Thread t : helpers) joinUninterruptibly(t);
        }
      } finally {
        for (Runnable stop : unwatch) stop.run();
      }
      List<T> ready = new ArrayList<>();
      for (Round<T> round : rounds) {
        if (round.failure != null) throw round.failure;
        ready.addAll(round.ready);
      }
      synchronized (woken) {
        ready.addAll(woken);
      }
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting");
      }
      return ready;
    } finally {
      for (Round<T> round : rounds) round.close();
    }
  }

  private static void awaitCallbacks(AtomicBoolean done, long deadline) throws IOException {
    Object monitorless = new Object();
    while (!done.get()) {
      long nanos = Deadlines.remaining(deadline);
      if (nanos <= 0) return;
      // Processes and listeners only: their callbacks set the flag and unpark this thread.
      java.util.concurrent.locks.LockSupport.parkNanos(monitorless, nanos);
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting");
      }
    }
  }

  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }

  /** One selector over the objects of one selector provider. */
  private static final class Round<T> {
    final Selector selector;
    final Map<SelectionKey, T> keys = new IdentityHashMap<>();
    final List<Endpoint> pinned = new ArrayList<>(); // held non-blocking until close
    final List<T> ready = new ArrayList<>();
    volatile IOException failure;

    /**
     * Cancels every key, then closes the selector. junixsocket's selector close does not take its
     * keys off the channels, so without the cancel each call left one dead key on every channel:
     * a leak, and registering got slower with every call.
     */
    void close() throws IOException {
      try {
        for (SelectionKey key : keys.keySet()) key.cancel();
        selector.close();
      } finally {
        for (Endpoint endpoint : pinned) endpoint.releaseSelectableChannel();
      }
    }

    Round(SelectorProvider provider, List<T> objects) throws IOException {
      selector = provider.openSelector();
      for (T object : objects) {
        Endpoint endpoint = (Endpoint) object;
        try {
          SelectableChannel channel = endpoint.selectableChannel();
          pinned.add(endpoint);
          keys.put(channel.register(selector, SelectionKey.OP_READ), object);
        } catch (IOException e) {
          close();
          throw e instanceof java.nio.channels.ClosedChannelException
              ? new ConnectionClosedException("connection is closed") : e;
        }
      }
    }

    void run(long deadline, AtomicBoolean done, Runnable wakeAll) {
      try {
        while (!done.get()) {
          long millis = Deadlines.selectMillis(deadline);
          int n = millis < 0 ? selector.selectNow() : Deadlines.select(selector, millis);
          if (n > 0) {
            for (SelectionKey key : selector.selectedKeys()) ready.add(keys.get(key));
            selector.selectedKeys().clear();
            wakeAll.run();
            return;
          }
          if (millis < 0 || Thread.currentThread().isInterrupted()) return;
          if (deadline != Deadlines.NONE && Deadlines.remaining(deadline) <= 0) return;
        }
      } catch (IOException e) {
        failure = e;
        wakeAll.run();
      }
    }
  }
}
