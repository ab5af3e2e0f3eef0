package dev.ferry.internal.raw;

import dev.ferry.ConnectionClosedException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * One end of a raw pipe: a Unix stream socket used in one direction, without framing. The
 * channel is always non-blocking; a blocking read or write waits in a selector of its own, which
 * {@link #close} wakes (a plain close(2) would not wake a thread inside read(2) or write(2)).
 *
 * <p>The descriptor is always released with a plain close(2), never with junixsocket's close,
 * which shuts the socket down first: a child process may hold a copy of this end, and a shutdown
 * would end the stream for it too. The peer sees end of stream once every copy is closed.
 *
 * <p>Locks: {@code ioLock} is held by the one blocking reader (or writer) for the whole call,
 * and by {@link #claimAsync} and {@link #descriptorForPassing}; it is never taken by close, which
 * only sets the flag and wakes the selector. State moves forward only: open, then (optionally)
 * driven by an event loop, then closed.
 */
public abstract sealed class RawEnd permits RawReadEnd, RawWriteEnd {
  private final AFUNIXSocketChannel channel;
  private final String description;

  /** What a write to a pipe whose readers are all gone fails with (EPIPE). */
  public static final String BROKEN_PIPE = "broken pipe: the read end is closed";
  private final ReentrantLock ioLock = new ReentrantLock();
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Set once an event loop drives this end; close is then the loop's to do. */
  private volatile Runnable asyncClose;

  /**
   * Written under ioLock: the selector blocking calls wait in, opened on first need. Volatile:
   * close reads it after setting the flag, a blocking call sets it before checking the flag, so
   * one of the two sees the other.
   */
  private volatile Selector selector;

  /** Takes {@code channel} over: on failure its descriptor is released (without shutdown). */
  RawEnd(AFUNIXSocketChannel channel, String description) throws IOException {
    this.channel = channel;
    this.description = description;
    try {
      channel.setShutdownOnClose(false);
      // Left in the mode it came in: O_NONBLOCK is on the open file description, shared with
      // every copy in every process, and CPython's sockets and Connection need blocking mode.
      // Blocking calls and event loops switch it when they start (nonBlocking()).
    } catch (RuntimeException e) {
      releaseDescriptor();
      throw e;
    }
  }

  /** What a blocking or asynchronous user of this end calls its direction ("reads", "writes"). */
  abstract String verb();

  public final boolean isOpen() {
    return !closed.get();
  }

  /** The channel, for the event loop that claimed this end. */
  public final AFUNIXSocketChannel channel() {
    return channel;
  }

  /**
   * Hands this end to an event loop for good; {@code close} is what a later {@link #close} runs
   * (on the loop, which then calls {@link #closeDescriptor}).
   *
   * @throws IllegalStateException if it is closed, a blocking call is in progress, or it was
   *     claimed already
   */
  public final void claimAsync(Runnable close) {
    if (!ioLock.tryLock()) {
      throw new IllegalStateException("a blocking call is in progress on " + this);
    }
    try {
      if (closed.get()) throw new IllegalStateException(description + " is closed");
      if (asyncClose != null) throw new IllegalStateException(description + " " + verb()
          + " asynchronously already");
      nonBlocking();
      asyncClose = close;
    } catch (IOException e) {
      throw new IllegalStateException(description + " is closed", e);
    } finally {
      ioLock.unlock();
    }
  }

  /**
   * This end's descriptor, for sending a copy to another process.
   *
   * @throws IllegalStateException if it is closed, busy or driven by an event loop
   */
  public final FileDescriptor descriptorForPassing() throws IOException {
    if (!ioLock.tryLock()) {
      throw new IllegalStateException("a blocking call is in progress on " + this);
    }
    try {
      if (closed.get()) throw new ConnectionClosedException(description + " is closed");
      if (asyncClose != null) {
        throw new IllegalStateException("cannot pass " + this + ": an event loop drives it");
      }
      // The copy shares O_NONBLOCK, which CPython's sockets and Connection expect cleared: this
      // side's selector goes (the next blocking call opens another) and the mode with it.
      if (selector != null) {
        deregister(selector);
        selector = null;
      }
      if (!channel.isRegistered()) channel.configureBlocking(true);
      return channel.getFileDescriptor();
    } finally {
      ioLock.unlock();
    }
  }

  /**
   * Blocks until {@code op} moves at least one byte (or reports the end), the time runs out, or
   * the end is closed.
   */
  final int blocking(int interest, Duration timeout, IoStep op) throws IOException {
    long deadline = timeout == null ? 0 : System.nanoTime() + nanos(timeout);
    ioLock.lock();
    try {
      checkUsable();
      nonBlocking();
      boolean reported = false;
      while (true) {
        int n;
        try {
          n = op.run(channel);
        } catch (ClosedChannelException e) {
          throw closedDuring(e);
        }
        if (n != 0) return n;
        // Reported readable yet nothing to read is the end of the stream: junixsocket's
        // non-blocking read returns 0 there, not -1. Only this thread reads (ioLock).
        if (reported && interest == SelectionKey.OP_READ) return -1;
        reported = await(interest, timeout, deadline);
      }
    } finally {
      ioLock.unlock();
    }
  }

  /** One non-blocking step of a blocking call: bytes moved, -1 at the end, 0 to wait. */
  interface IoStep {
    int run(AFUNIXSocketChannel channel) throws IOException;
  }

  private void checkUsable() throws IOException {
    if (closed.get()) throw new ConnectionClosedException(description + " is closed");
    if (asyncClose != null) {
      throw new IllegalStateException(description + " " + verb() + " asynchronously");
    }
  }

  /** Waits for {@code interest}; true if the selector reported it (or the peer hung up). */
  private boolean await(int interest, Duration timeout, long deadline) throws IOException {
    if (Thread.currentThread().isInterrupted()) {
      throw new InterruptedIOException("interrupted while waiting on " + description);
    }
    long waitMillis = 0; // forever
    boolean outOfTime = false;
    if (timeout != null) {
      long left = deadline - System.nanoTime();
      outOfTime = left <= 0;
      waitMillis = Math.max(1, (left + 999_999) / 1_000_000);
    }
    try {
      Selector s = selector();
      if (closed.get()) throw closedDuring(new AsynchronousCloseException());
      SelectionKey key = channel.keyFor(s);
      // junixsocket cancels a key itself on hang-up: nothing will be reported again.
      if (key == null || !key.isValid()) return true;
      key.interestOps(interest);
      // Out of time still gets one look: a zero timeout must see an end of stream already there.
      int selected = outOfTime ? s.selectNow() : s.select(waitMillis);
      s.selectedKeys().clear();
      if (closed.get()) throw closedDuring(new AsynchronousCloseException());
      if (selected > 0 || !key.isValid()) return true;
      if (outOfTime) {
        throw new SocketTimeoutException(verb().substring(0, verb().length() - 1)
            + " timed out after " + timeout.toMillis() + " ms");
      }
      return false;
    } catch (ClosedSelectorException | CancelledKeyException e) {
      throw closedDuring(new AsynchronousCloseException());
    }
  }

  private Selector selector() throws IOException {
    if (selector == null) {
      selector = channel.provider().openSelector();
      try {
        channel.register(selector, 0);
      } catch (IOException | RuntimeException e) {
        selector.close();
        selector = null;
        throw e;
      }
    }
    return selector;
  }

  /**
   * A closed channel is either this end's own close, from another thread, or (for a write)
   * junixsocket's report that every copy of the read end is gone.
   */
  private IOException closedDuring(IOException e) {
    if (!closed.get()) {
      return verb().equals("writes") ? new IOException(BROKEN_PIPE, e) : e;
    }
    ConnectionClosedException c = new ConnectionClosedException(description + " is closed");
    c.initCause(e);
    return c;
  }

  /**
   * Closes this end; idempotent, from any thread. A blocking call in progress fails with
   * {@link ConnectionClosedException}; an event loop that drives this end closes it there.
   */
  public final void close() throws IOException {
    Runnable async = asyncClose;
    if (async != null) {
      async.run();
      return;
    }
    if (!closed.compareAndSet(false, true)) return;
    Selector s = selector; // racy read: a selector opened right now is closed by its opener below
    if (s != null) s.wakeup();
    ioLock.lock(); // the woken call leaves at once
    try {
      if (selector != null) deregister(selector);
      leaveBlockingForPeers();
      releaseDescriptor();
    } finally {
      ioLock.unlock();
    }
  }

  /** Event loop thread: the loop that drives this end closes it. */
  public final void closeDescriptor() throws IOException {
    if (closed.compareAndSet(false, true)) releaseDescriptor();
  }

  /**
   * Closes {@code selector} with the channel deregistered: junixsocket's selector close leaves
   * the channel registered, and a registered channel cannot go back to blocking mode. A select
   * after the cancel is what deregisters it.
   */
  private static void deregister(Selector selector) throws IOException {
    try {
      for (SelectionKey key : selector.keys()) key.cancel();
      selector.selectNow();
    } catch (ClosedSelectorException e) {
      // Closed already: nothing to deregister from it.
    } finally {
      selector.close();
    }
  }

  /** ioLock held: waits happen in a selector, which needs non-blocking mode. */
  private void nonBlocking() throws IOException {
    if (channel.isBlocking()) channel.configureBlocking(false);
  }

  /**
   * Puts a descriptor other processes may hold copies of back in blocking mode, which they
   * expect; one that some selector still holds stays as it is.
   */
  private void leaveBlockingForPeers() {
    try {
      if (channel.isOpen() && !channel.isRegistered()) channel.configureBlocking(true);
    } catch (IOException | RuntimeException e) {
      // Closed meanwhile, or a selector's: nothing to restore for the copies then.
    }
  }

  private void releaseDescriptor() throws IOException {
    try {
      FileDescriptor fd = channel.getFileDescriptor();
      // A plain close(2) first: junixsocket's close would shut the socket down for every copy,
      // and it skips the shutdown for a descriptor that is no longer valid.
      if (fd != null && fd.valid()) new FileInputStream(fd).close();
    } finally {
      channel.close();
    }
  }

  private static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 2;
    }
  }

  static Duration checkTimeout(Duration timeout) {
    if (timeout.isNegative()) throw new IllegalArgumentException("timeout < 0: " + timeout);
    return timeout;
  }

  @Override
  public final String toString() {
    return description + (closed.get() ? "[closed]" : "");
  }
}
