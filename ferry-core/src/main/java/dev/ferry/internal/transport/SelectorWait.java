package dev.ferry.internal.transport;

import dev.ferry.ConnectionClosedException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One direction of a {@link SocketTransport}'s waits, reading or writing: a selector of its own,
 * opened on the first wait, and the lock its one thread holds while it selects or moves bytes
 * without waiting.
 *
 * <p>Only the transport's close contends for the lock, and only for a passed socket, which it puts
 * back in blocking mode: it waits for the woken thread to leave first ({@link #lockOnceLeft}).
 * Otherwise close would select on this selector while the thread still did, and junixsocket
 * 2.10.1's selector is not safe for that (both polls see its wake-up byte, one reads it, and the
 * other blocks reading the empty wake-up pipe while holding the monitor close needs: a SIGTERM'd
 * {@code ferry echo --fd} hung so, 7 times in 40); or a read that had just found the socket
 * non-blocking would wait in read(2) on a socket that close made blocking, which nothing wakes.
 */
final class SelectorWait {
  private static final System.Logger LOG = System.getLogger(SelectorWait.class.getName());

  private final SocketChannel channel;
  private final int ops;
  private final BooleanSupplier closed;

  /** Held by this direction's thread while it selects, reads or writes; see the class comment. */
  final ReentrantLock lock = new ReentrantLock();

  /** Opened on the first wait; replaced only by the thread holding the caller's lock. */
  private volatile Selector selector;

  SelectorWait(SocketChannel channel, int ops, BooleanSupplier closed) {
    this.channel = channel;
    this.ops = ops;
    this.closed = closed;
  }

  boolean hasSelector() {
    return selector != null;
  }

  /**
   * Waits until the channel is ready for this direction (or failed, or hung up); false if the
   * deadline passed. The caller holds {@link #lock}.
   */
  boolean await(long deadline) throws IOException {
    Selector s = selector;
    if (s == null) selector = s = register();
    while (true) {
      if (closed.getAsBoolean()) {
        // close() may have run before this thread published the selector: close it here too,
        // deregistered, so that close can still put a passed socket back in blocking mode.
        deregisterQuietly(s);
        throw new ConnectionClosedException("connection is closed");
      }
      if (ChannelModes.hungUp(s)) return true; // the next read sees the end of stream, a write fails
      long millis = Deadlines.selectMillis(deadline);
      int ready;
      try {
        // Out of time still gets one look: a zero-timeout poll must see an end of stream that
        // junixsocket's read reports as 0 bytes, not -1.
        ready = millis < 0 ? s.selectNow() : Deadlines.select(s, millis);
      } catch (ClosedSelectorException e) {
        throw new ConnectionClosedException("connection closed while waiting");
      } catch (IOException | RuntimeException e) {
        // junixsocket's select reads its wake-up pipe, which close may have closed under it, and
        // fills in the ready keys, which close may have cancelled (a NullPointerException).
        if (closed.getAsBoolean()) {
          throw new ConnectionClosedException("connection closed while waiting");
        }
        throw e;
      }
      if (closed.getAsBoolean()) {
        throw new ConnectionClosedException("connection closed while waiting");
      }
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for the peer");
      }
      if (ready > 0) {
        s.selectedKeys().clear();
        return true;
      }
      if (millis < 0) return false;
      // A select with a timeout can wake early (wakeup, spurious): go round until the deadline.
      if (deadline != Deadlines.NONE && Deadlines.remaining(deadline) <= 0) return false;
    }
  }

  /** Opens and registers the selector if there is none yet; {@link #await} does it too. */
  void ensureRegistered() throws IOException {
    if (selector == null) selector = register();
  }

  private Selector register() throws IOException {
    if (closed.getAsBoolean()) throw new ConnectionClosedException("connection is closed");
    Selector s = channel.provider().openSelector();
    try {
      channel.register(s, ops);
    } catch (IOException | RuntimeException e) {
      s.close();
      if (closed.getAsBoolean() || e instanceof ClosedChannelException) {
        throw new ConnectionClosedException("connection is closed");
      }
      throw e instanceof IOException io ? io : new IOException(e);
    }
    if (closed.getAsBoolean()) {
      // close() ran between the check above and now and could not see this selector to wake it.
      deregisterQuietly(s);
      throw new ConnectionClosedException("connection is closed");
    }
    return s;
  }

  /**
   * Deregisters after a close, which may be closing the same selector at this moment: it waits for
   * this thread only for a passed socket. Whatever junixsocket then throws (its wake-up pipe closed
   * under the select) only says so.
   */
  private static void deregisterQuietly(Selector s) {
    try {
      ChannelModes.deregister(s);
    } catch (IOException | RuntimeException e) {
      // Closed by close() meanwhile: nothing is left to deregister.
    }
  }

  /** Wakes the thread in {@link #await}, if any; close calls it first. */
  void wakeup() {
    Selector s = selector;
    if (s != null) s.wakeup();
  }

  /**
   * Closes the selector with its key cancelled, so that the channel can switch to blocking mode:
   * the caller holds {@link #lock}, or knows no thread waits (a blocking read's mode switch).
   */
  void drop() throws IOException {
    Selector s = selector;
    if (s == null) return;
    selector = null;
    ChannelModes.dropSelector(s);
  }

  /** Closes the selector with the channel deregistered; the caller holds {@link #lock}. */
  void deregister() throws IOException {
    ChannelModes.deregister(selector);
  }

  /** Closes the selector: the transport closes, and nothing needs the channel deregistered. */
  void close() throws IOException {
    ChannelModes.closeSelector(selector);
  }

  /**
   * Takes {@link #lock} once the thread that close woke has left (at once: it sees the close);
   * false if it does not within a second, rather than hang the close. An interrupted closing
   * thread waits all the same (a receive cut by an interrupt closes on that thread) and keeps its
   * interrupt.
   */
  boolean lockOnceLeft() {
    boolean interrupted = Thread.interrupted();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    try {
      while (true) {
        try {
          if (lock.tryLock(end - System.nanoTime(), TimeUnit.NANOSECONDS)) return true;
          LOG.log(System.Logger.Level.DEBUG, "a waiting thread did not leave its selector in time");
          return false;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) Thread.currentThread().interrupt();
    }
  }
}
