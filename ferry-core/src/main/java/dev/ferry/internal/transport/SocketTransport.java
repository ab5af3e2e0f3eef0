package dev.ferry.internal.transport;

import dev.ferry.ConnectionClosedException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * One stream socket, JDK or junixsocket, held in non-blocking mode so that it can be registered
 * with any number of selectors (for {@code Wait} and event loops) while blocking callers wait for
 * readiness on a selector of their own.
 *
 * <p>Threading: one thread at a time reads ({@link #read}, {@link #awaitReadable}) and one thread at
 * a time writes; the caller's read and write locks guarantee it. {@link #close()} may come from any
 * thread and wakes both.
 */
public final class SocketTransport {
  private final SocketChannel channel;

  /** Opened on first blocking read; used only by the thread holding the caller's read lock. */
  private volatile Selector readSelector;

  /** Opened on first blocking write; used only by the thread holding the caller's write lock. */
  private volatile Selector writeSelector;

  private volatile boolean closed;

  public SocketTransport(SocketChannel channel) throws IOException {
    this.channel = channel;
    channel.configureBlocking(false);
  }

  public SocketChannel channel() {
    return channel;
  }

  public boolean isClosed() {
    return closed;
  }

  /**
   * Reads at least one byte into {@code dst}, waiting until {@code deadline}. Returns the count, or
   * -1 at end of stream.
   *
   * @throws SocketTimeoutException when the deadline passes first
   */
  public int read(ByteBuffer dst, long deadline) throws IOException {
    int n = readWithin(dst, deadline);
    if (n == 0) throw new SocketTimeoutException("receive timed out");
    return n;
  }

  /**
   * Reads at least one byte into {@code dst} unless {@code deadline} passes first. Returns the
   * count, 0 if the deadline passed, or -1 at end of stream.
   */
  public int readWithin(ByteBuffer dst, long deadline) throws IOException {
    int n = readNow(dst);
    if (n != 0) return n;
    if (!awaitReadable(deadline)) return 0;
    n = readNow(dst);
    // Readable yet nothing to read means end of stream: junixsocket's non-blocking read returns
    // 0 there instead of -1. Only this thread reads, so nobody took the bytes in between.
    return n == 0 ? -1 : n;
  }

  /** Reads what is available without waiting: a count, 0 for nothing yet, or -1 at end of stream. */
  public int readNow(ByteBuffer dst) throws IOException {
    checkOpen();
    try {
      return channel.read(dst);
    } catch (IOException e) {
      throw closedOr(e);
    }
  }

  /** Waits until the socket is readable (data, end of stream or error); false if the deadline passed. */
  public boolean awaitReadable(long deadline) throws IOException {
    if (readSelector == null) readSelector = register(SelectionKey.OP_READ);
    return await(readSelector, deadline);
  }

  /** Writes all of {@code src}, waiting for buffer space as long as it takes. */
  public void writeFully(ByteBuffer src) throws IOException {
    checkOpen();
    try {
      while (src.hasRemaining()) {
        if (channel.write(src) == 0) {
          if (writeSelector == null) writeSelector = register(SelectionKey.OP_WRITE);
          await(writeSelector, Deadlines.NONE);
        }
      }
    } catch (IOException e) {
      throw closedOr(e);
    }
  }

  private Selector register(int ops) throws IOException {
    checkOpen();
    Selector selector = channel.provider().openSelector();
    try {
      channel.register(selector, ops);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw closedOr(e instanceof IOException io ? io : new IOException(e));
    }
    if (closed) {
      // close() ran between checkOpen and now and could not see this selector to wake it.
      selector.close();
      throw new ConnectionClosedException("connection is closed");
    }
    return selector;
  }

  private boolean await(Selector selector, long deadline) throws IOException {
    while (true) {
      if (closed) {
        // close() may have run before this thread published the selector: close it here too.
        selector.close();
        throw new ConnectionClosedException("connection is closed");
      }
      if (hungUp(selector)) return true; // the next read sees the end of stream, a write fails
      long millis = Deadlines.selectMillis(deadline);
      if (millis < 0) return false;
      int ready;
      try {
        // select(0) is "forever" for the JDK but "don't wait" for junixsocket, which then spins.
        ready = millis == 0 ? selector.select() : selector.select(millis);
      } catch (ClosedSelectorException e) {
        throw new ConnectionClosedException("connection closed while waiting");
      }
      if (closed) throw new ConnectionClosedException("connection closed while waiting");
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for the peer");
      }
      if (ready > 0) {
        selector.selectedKeys().clear();
        return true;
      }
      // A select with a timeout can wake early (wakeup, spurious): go round until the deadline.
      if (deadline != Deadlines.NONE && Deadlines.remaining(deadline) <= 0) return false;
    }
  }

  private void checkOpen() throws ConnectionClosedException {
    if (closed) throw new ConnectionClosedException("connection is closed");
  }

  private IOException closedOr(IOException e) {
    if (closed || e instanceof AsynchronousCloseException || e instanceof ClosedChannelException) {
      return new ConnectionClosedException("connection is closed");
    }
    return e;
  }

  /** Closes the socket and wakes any thread waiting on it. Idempotent. */
  public void close() throws IOException {
    if (closed) return;
    closed = true;
    Selector r = readSelector;
    Selector w = writeSelector;
    if (r != null) r.wakeup();
    if (w != null) w.wakeup();
    try {
      channel.close();
    } finally {
      closeSelector(r);
      closeSelector(w);
    }
  }

  private static void closeSelector(Selector selector) throws IOException {
    if (selector != null) selector.close();
  }

  /** Writes what the socket takes without waiting; returns the count, possibly 0. */
  public int writeNow(ByteBuffer src) throws IOException {
    checkOpen();
    try {
      return channel.write(src);
    } catch (IOException e) {
      throw closedOr(e);
    }
  }

  /**
   * Whether the peer hung up: junixsocket's selector cancels a key itself when poll reports a
   * hang-up, in the very select that also reports data, and never reports the channel again; a
   * wait on it would last forever.
   */
  private static boolean hungUp(Selector selector) {
    for (SelectionKey key : selector.keys()) if (!key.isValid()) return true;
    return selector.keys().isEmpty();
  }
}
