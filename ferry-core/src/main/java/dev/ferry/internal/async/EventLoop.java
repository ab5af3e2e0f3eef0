package dev.ferry.internal.async;

import dev.ferry.internal.thread.Threads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One thread, named {@code ferry-loop-N}, and one selector of one provider (the JDK's or
 * junixsocket's: neither can register the other's channels). Everything registered here runs on
 * this thread: readiness callbacks, tasks handed in with {@link #execute}, and timers.
 *
 * <p>The thread belongs to Ferry, yet it runs users' completion stages, and a stage may interrupt
 * it. junixsocket closes a channel whose non-blocking read or write runs on an interrupted
 * thread, and an interrupted thread's select returns at once, so the loop clears the flag after
 * every task and before every read and write ({@link #clearInterrupt}). It stops through
 * {@link #close}, never through an interrupt.
 */
public final class EventLoop implements Runnable {
  private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
  private static final AtomicInteger THREADS = new AtomicInteger();

  /** The receive buffer every connection on this loop reads through. */
  static final int SCRATCH_SIZE = 64 * 1024;

  /** Called on the loop thread when the selector reports a registered channel ready. */
  interface Handler {
    void ready(SelectionKey key);

    /** The loop is stopping: release everything. */
    void loopClosed();
  }

  private final Selector selector;
  private final Thread thread;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();

  /** Loop thread only: actions that run once the current round's keys and tasks are done. */
  private final ArrayDeque<Runnable> endOfRound = new ArrayDeque<>();
  private final AtomicBoolean wakeupPending = new AtomicBoolean();

  // Loop thread only.
  private final PriorityQueue<Timer> timers = new PriorityQueue<>();
  private final ByteBuffer scratch = ByteBuffer.allocateDirect(SCRATCH_SIZE);
  private long timerSequence;

  /**
   * Every handler registered here and not yet gone, whether the selector still holds its key or
   * not: junixsocket cancels a key itself when the peer hangs up, and such a connection must still
   * be closed when the loop stops.
   */
  private final Set<Handler> members = Collections.newSetFromMap(new IdentityHashMap<>());

  private volatile boolean closing;

  /** Set when the loop thread no longer runs tasks: from then on, callers run their own. */
  private volatile boolean terminated;

  EventLoop(SelectorProvider provider) throws IOException {
    this.selector = provider.openSelector();
    this.thread = new Thread(this, "ferry-loop-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
    thread.start();
  }

  /** A timer: runs once unless cancelled first. Loop thread only. */
  final class Timer implements Comparable<Timer> {
    final long deadline;
    final long sequence = timerSequence++;
    final Runnable action;
    boolean cancelled;

    Timer(long deadline, Runnable action) {
      this.deadline = deadline;
      this.action = action;
    }

    void cancel() {
      cancelled = true;
    }

    @Override
    public int compareTo(Timer o) {
      int c = Long.compare(deadline - o.deadline, 0);
      return c != 0 ? c : Long.compare(sequence, o.sequence);
    }
  }

  boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  /** Runs {@code task} on the loop thread, after the tasks handed in before it. */
  void execute(Runnable task) {
    tasks.add(task);
    if (terminated) {
      drainTasks(); // nobody else will: the task sees a closed connection and fails its future
      return;
    }
    if (wakeupPending.compareAndSet(false, true)) selector.wakeup();
  }

  /**
   * Loop thread: runs {@code action} at the end of this round, after the ready keys and the tasks
   * handed in so far: sends queued by those tasks then leave together.
   */
  void atEndOfRound(Runnable action) {
    endOfRound.add(action);
  }

  /** Loop thread: runs {@code action} after {@code nanos}. */
  Timer schedule(long nanos, Runnable action) {
    Timer t = new Timer(System.nanoTime() + nanos, action);
    timers.add(t);
    return t;
  }

  /**
   * Loop thread: registers {@code channel} with no interest yet; {@code handler} is a member of
   * this loop until it {@link #leave}s, and learns of the loop's end through
   * {@link Handler#loopClosed} until then.
   */
  SelectionKey register(SelectableChannel channel, Handler handler) throws ClosedChannelException {
    SelectionKey key;
    try {
      key = channel.register(selector, 0, handler);
    } catch (CancelledKeyException e) {
      // The channel's previous key here (its connect) is cancelled but not yet flushed out.
      try {
        selector.selectNow();
      } catch (IOException io) {
        throw new UncheckedIOException(io);
      }
      key = channel.register(selector, 0, handler);
    }
    members.add(handler);
    return key;
  }

  /** Loop thread: {@code handler} is done with this loop (closed, or handed on). */
  void leave(Handler handler) {
    members.remove(handler);
  }

  /**
   * Loop thread: clears the interrupt flag a completion stage may have set on this thread,
   * before the loop touches a socket or selects again.
   */
  static void clearInterrupt() {
    Thread.interrupted();
  }

  ByteBuffer scratch() {
    return scratch;
  }

  /**
   * Loop thread: the direct buffer small frames are gathered into before one write, shared by
   * every connection of the loop; a batch that did not leave whole moves out of it.
   */
  ByteBuffer batchBuffer() {
    if (batch == null) batch = ByteBuffer.allocateDirect(BATCH_BUFFER_SIZE);
    return batch;
  }

  /** Big enough for the largest batch, or a header and the first piece of a large payload. */
  static final int BATCH_BUFFER_SIZE = OutgoingFrame.BATCH_BYTES + 16;

  private ByteBuffer batch;

  boolean isClosing() {
    return closing;
  }

  @Override
  public void run() {
    try {
      while (!closing) {
        long timeout = runTimers();
        clearInterrupt();
        wakeupPending.set(false);
        // Timers may have queued end-of-round work (a send from a timeout's callback): no sleep then.
        select(tasks.isEmpty() && endOfRound.isEmpty() ? timeout : 0);
        wakeupPending.set(true); // tasks added from here on are seen below without a wakeup
        for (Iterator<SelectionKey> i = selector.selectedKeys().iterator(); i.hasNext(); ) {
          SelectionKey key = i.next();
          i.remove();
          // Dispatched even when invalid: junixsocket cancels a key itself when poll reports a
          // hang-up, in the very select that reports it readable.
          if (key.attachment() != null) runSafely(() -> ((Handler) key.attachment()).ready(key));
        }
        drainTasks();
        Runnable action;
        while ((action = endOfRound.poll()) != null) runSafely(action);
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.ERROR, "event loop " + thread.getName() + " failed", e);
    } finally {
      closing = true;
      shutDown();
    }
  }

  /**
   * Selects for up to {@code millis} (-1: without limit; 0: without blocking). junixsocket's
   * selector throws a NullPointerException from a select during which another thread cancelled a
   * key (a user closing a Unix connection does): its poll array then has a hole. Its keys are
   * intact and poll(2) reports readiness again, so that round counts as one that found nothing;
   * letting it through would end the loop and close every connection on it.
   */
  private void select(long millis) throws IOException {
    try {
      if (millis < 0) {
        selector.select();
      } else if (millis == 0) {
        selector.selectNow();
      } else {
        selector.select(millis);
      }
    } catch (NullPointerException e) {
      LOG.log(Level.DEBUG, "select raced a key cancelled by another thread; selecting again", e);
    }
  }

  /** Runs due timers; returns the milliseconds until the next one, or -1 for none. */
  private long runTimers() {
    while (!timers.isEmpty()) {
      Timer t = timers.peek();
      if (t.cancelled) {
        timers.poll();
        continue;
      }
      long left = t.deadline - System.nanoTime();
      if (left > 0) return Math.max(1, (left + 999_999) / 1_000_000);
      timers.poll();
      runSafely(t.action);
    }
    return -1;
  }

  private void drainTasks() {
    Runnable task;
    while ((task = tasks.poll()) != null) runSafely(task);
  }

  private static void runSafely(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      // A completion stage or callback threw: the loop must go on serving everyone else.
      LOG.log(Level.WARNING, "task on event loop failed", e);
    } finally {
      clearInterrupt();
    }
  }

  private void shutDown() {
    List<Handler> handlers = new ArrayList<>(members);
    members.clear();
    for (Handler h : handlers) runSafely(h::loopClosed);
    drainTasks();
    endOfRound.clear(); // their connections failed their sends in loopClosed
    timers.clear();
    try {
      selector.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "closing selector", e);
    }
    terminated = true;
    drainTasks();
  }

  /** Stops the loop and waits for its thread to end. */
  void close() {
    closing = true;
    selector.wakeup();
    Threads.joinUninterruptibly(thread);
  }
}
