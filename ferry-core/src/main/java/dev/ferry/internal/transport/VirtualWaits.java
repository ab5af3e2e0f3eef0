package dev.ferry.internal.transport;

import dev.ferry.ConnectionClosedException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.spi.SelectorProvider;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Virtual threads waiting for a JDK socket to become readable, all on one selector watched by one
 * platform thread ({@code ferry-vwait}), which unparks each thread when its socket is ready. A
 * selector per connection would cost two descriptors per waiting thread (an epoll and an event
 * descriptor): 10,000 virtual threads with a connection each would need 30,000. The thread ends
 * after half a second without waiters, and starts again on demand.
 *
 * <p>One waiter per socket at a time: the caller's read lock guarantees it (only reads wait here).
 */
final class VirtualWaits implements Runnable {
  private static final long IDLE_MILLIS = 500;

  private static final Object LOCK = new Object();

  /** The running instance, or null; guarded by LOCK. */
  private static VirtualWaits current;

  private final Selector selector;
  private final Queue<Waiter> added = new ConcurrentLinkedQueue<>();
  private final Queue<Waiter> finished = new ConcurrentLinkedQueue<>();

  /** Waiters that have not finished yet; guarded by LOCK. */
  private int waiting;

  private static final class Waiter {
    final SelectableChannel channel;
    final Thread thread = Thread.currentThread();
    volatile boolean ready;
    volatile boolean done;
    SelectionKey key; // poller thread only

    Waiter(SelectableChannel channel) {
      this.channel = channel;
    }
  }

  private VirtualWaits() throws IOException {
    selector = SelectorProvider.provider().openSelector();
  }

  /**
   * Parks the calling (virtual) thread until {@code channel}, a non-blocking JDK channel, is
   * readable; false if {@code deadline} passed first.
   *
   * @throws ConnectionClosedException once {@code closed} says so (the closer unparks the thread)
   */
  static boolean awaitReadable(SelectableChannel channel, long deadline, BooleanSupplier closed)
      throws IOException {
    Waiter w = new Waiter(channel);
    VirtualWaits poller = enter(w);
    try {
      while (!w.ready) {
        if (closed.getAsBoolean()) throw new ConnectionClosedException("connection closed while waiting");
        if (Thread.interrupted()) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for the peer");
        }
        if (deadline == Deadlines.NONE) {
          LockSupport.park(w);
        } else {
          long left = Deadlines.remaining(deadline);
          if (left <= 0) return false;
          LockSupport.parkNanos(w, left);
        }
      }
      return true;
    } finally {
      poller.leave(w);
    }
  }

  private static VirtualWaits enter(Waiter w) throws IOException {
    synchronized (LOCK) {
      if (current == null) {
        current = new VirtualWaits();
        Thread t = new Thread(current, "ferry-vwait");
        t.setDaemon(true);
        t.start();
      }
      current.waiting++;
      current.added.add(w);
      current.selector.wakeup();
      return current;
    }
  }

  private void leave(Waiter w) {
    w.done = true;
    finished.add(w);
    synchronized (LOCK) {
      waiting--;
    }
    selector.wakeup();
  }

  @Override
  public void run() {
    long idleSince = System.nanoTime();
    try {
      while (true) {
        selector.select(IDLE_MILLIS);
        wakeSelected();
        Waiter w;
        while ((w = finished.poll()) != null) {
          if (w.key != null) w.key.cancel();
        }
        while ((w = added.poll()) != null) {
          if (w.done) continue;
          try {
            w.key = register(w);
          } catch (ClosedChannelException | RuntimeException e) {
            w.ready = true; // the read that follows reports the state of the socket
            LockSupport.unpark(w.thread);
          }
        }
        synchronized (LOCK) {
          if (waiting > 0 || !added.isEmpty()) {
            idleSince = System.nanoTime();
          } else if (System.nanoTime() - idleSince > IDLE_MILLIS * 1_000_000) {
            current = null; // the next waiter starts a new one
            break;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      synchronized (LOCK) {
        if (current == this) current = null;
      }
      for (SelectionKey key : selector.keys()) {
        Waiter w = (Waiter) key.attachment();
        w.ready = true;
        LockSupport.unpark(w.thread);
      }
    } finally {
      for (SelectionKey key : selector.keys()) key.cancel();
      try {
        selector.close();
      } catch (IOException ignored) {
        // Nothing more to release.
      }
    }
  }

  private SelectionKey register(Waiter w) throws IOException {
    try {
      return w.channel.register(selector, SelectionKey.OP_READ, w);
    } catch (CancelledKeyException e) {
      // Its previous key here is cancelled but not yet flushed out: flush, then register.
      selector.selectNow();
      wakeSelected();
      return w.channel.register(selector, SelectionKey.OP_READ, w);
    }
  }

  /** Wakes the waiters whose sockets the last select reported, and forgets their keys. */
  private void wakeSelected() {
    for (SelectionKey key : selector.selectedKeys()) {
      Waiter w = (Waiter) key.attachment();
      key.cancel();
      w.ready = true;
      LockSupport.unpark(w.thread);
    }
    selector.selectedKeys().clear();
  }
}
