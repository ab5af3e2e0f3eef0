package dev.ferry.internal.wait;

import dev.ferry.internal.thread.Threads;
import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Selects one poll-based group for the rest of its wait set's life, on a thread of its own named
 * {@code ferry-wait-N}. Each socket it reports gets its key switched off (interest 0) and its
 * member queued as a suspect for the waiting thread, which looks at that socket alone and hands
 * it back through {@link #toWatch} if it has nothing. So the poll over every socket runs here once
 * per batch of arrivals, and a call costs what the reported sockets cost. This thread alone
 * selects the group, registers with it and changes interest, so that junixsocket's selector never
 * sees two threads at once.
 */
final class Poller implements Runnable {
  private static final AtomicInteger THREADS = new AtomicInteger();

  /**
   * The longest poll. Never unbounded (see {@code Deadlines.select}), but longer than its slices:
   * an idle poll over 10,000 sockets costs milliseconds, and every change this thread must see (a
   * registration, a key to switch on, close) wakes it anyway.
   */
  private static final long IDLE_SLICE_MILLIS = 1_000;

  final Group group;
  /** Connections added to the set, for this thread to register. */
  final Queue<Member> toRegister = new ConcurrentLinkedQueue<>();
  /** Reported members that turned out empty, for this thread to switch on again. */
  final Queue<Member> toWatch = new ConcurrentLinkedQueue<>();

  private final WaitEngine<?> engine;
  private final Thread thread;
  private volatile boolean quit;
  private volatile IOException failure;

  Poller(WaitEngine<?> engine, Group group) {
    this.engine = engine;
    this.group = group;
    this.thread = new Thread(this, "ferry-wait-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
    thread.start();
  }

  /** Throws, on the waiting thread, what ended this thread. */
  void rethrow() throws IOException {
    IOException e = failure;
    if (e != null) throw new IOException("wait set poller failed: " + e.getMessage(), e);
  }

  /** Ends the thread and waits for it. */
  void quit() {
    quit = true;
    group.selector.wakeup();
    Threads.joinUninterruptibly(thread);
  }

  @Override
  public void run() {
    try {
      while (!quit) {
        registerQueued();
        watchQueued();
        group.select(IDLE_SLICE_MILLIS);
        if (quit) return;
        engine.switchOffSelected(group);
      }
    } catch (IOException | ClosedSelectorException e) {
      if (quit) return;
      failure = e instanceof IOException io ? io : new IOException(e);
      engine.wakeWaiter();
    }
  }

  private void registerQueued() throws IOException {
    Member member;
    while ((member = toRegister.poll()) != null) {
      if (member.removed) continue;
      engine.register(member, () -> {
        group.select(-1);
        engine.switchOffSelected(group);
      });
    }
  }

  private void watchQueued() {
    Member member;
    while ((member = toWatch.poll()) != null) {
      SelectionKey key = member.key;
      // Reported again since it was handed back (a hang-up): the waiting thread has it now.
      if (member.removed || member.off || key == null || !key.isValid()) continue;
      // Before the interest goes on: a read between the two makes the count look touched,
      // which only costs a look more, never a false end of stream.
      member.readsWhenWatched = member.connection.readCount();
      try {
        key.interestOps(SelectionKey.OP_READ);
      } catch (CancelledKeyException e) {
        // Removed meanwhile.
      }
    }
  }
}
