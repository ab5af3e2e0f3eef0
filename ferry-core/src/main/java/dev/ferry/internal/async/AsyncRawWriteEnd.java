package dev.ferry.internal.async;

import dev.ferry.RawWriter;
import dev.ferry.async.AsyncRawWriter;
import dev.ferry.internal.raw.RawEnd;
import dev.ferry.internal.raw.RawWriteEnd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The implementation of {@link AsyncRawWriter}: a raw pipe's write end on one event loop. Writes
 * wait in a queue as references to the callers' buffers (nothing is copied); the loop writes the
 * head while the socket takes bytes and asks for write readiness when it is full. Everything but
 * the closed flag and the byte count belongs to the loop thread.
 */
public final class AsyncRawWriteEnd extends AsyncRawEnd implements AsyncRawWriter {

  /** A write's future: cancelling it works only until its first byte leaves. */
  private static final class WriteFuture extends CompletableFuture<Void> {
    private boolean started; // guarded by this

    synchronized boolean start() {
      if (isDone()) return false;
      started = true;
      return true;
    }

    @Override
    public synchronized boolean cancel(boolean mayInterruptIfRunning) {
      return !started && super.cancel(mayInterruptIfRunning);
    }
  }

  private record Write(ByteBuffer bytes, WriteFuture future) {}

  private final RawWriteEnd writer;
  private final AtomicLong queued = new AtomicLong();
  /** Why this end closed, for the writes that come later: broken pipe, or our own close. */
  private volatile IOException closeCause;

  // Loop thread only.
  private final ArrayDeque<Write> writes = new ArrayDeque<>();
  private boolean registered;

  private AsyncRawWriteEnd(RawWriteEnd end, EventLoop loop) {
    super(end, loop);
    this.writer = end;
  }

  public static AsyncRawWriteEnd open(RawWriter writer, LoopGroup group) {
    Objects.requireNonNull(writer, "writer");
    RawWriteEnd end = (RawWriteEnd) writer;
    EventLoop loop = group.next(end.channel().provider());
    AsyncRawWriteEnd async = new AsyncRawWriteEnd(end, loop);
    async.start();
    return async;
  }

  @Override
  void registered() {
    registered = true;
    flush();
  }

  @Override
  public CompletableFuture<Void> write(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return write(ByteBuffer.wrap(bytes));
  }

  @Override
  public CompletableFuture<Void> write(ByteBuffer buffer) {
    ByteBuffer bytes = buffer.slice();
    buffer.position(buffer.limit());
    WriteFuture future = new WriteFuture();
    queued.addAndGet(bytes.remaining());
    loop.execute(() -> {
      if (closed) {
        queued.addAndGet(-bytes.remaining());
        IOException cause = closeCause;
        future.completeExceptionally(cause != null ? cause : closedException());
        return;
      }
      writes.add(new Write(bytes, future));
      flush();
    });
    return future;
  }

  @Override
  public CompletableFuture<Void> drain() {
    return write(ByteBuffer.allocate(0));
  }

  @Override
  public long queuedBytes() {
    return queued.get();
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread

  @Override
  public void ready(SelectionKey k) {
    flush(); // a cancelled key (the reader hung up) too: the write then fails with EPIPE
  }

  /** Writes the queued buffers in order while the socket takes bytes. */
  private void flush() {
    if (!registered) return;
    Write head;
    while (!closed && (head = writes.peek()) != null) {
      if (!head.future().start()) { // withdrawn before its first byte left
        writes.poll();
        queued.addAndGet(-head.bytes().remaining());
        continue;
      }
      try {
        EventLoop.clearInterrupt();
        int n = writer.channel().write(head.bytes());
        queued.addAndGet(-n);
        if (head.bytes().hasRemaining()) break;
      } catch (ClosedChannelException e) {
        closeNow(new IOException(RawEnd.BROKEN_PIPE, e)); // junixsocket's EPIPE
        return;
      } catch (IOException e) {
        closeNow(e);
        return;
      }
      writes.poll();
      head.future().complete(null);
    }
    updateInterest();
  }

  private void updateInterest() {
    interest(!closed && !writes.isEmpty() ? SelectionKey.OP_WRITE : 0);
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  @Override
  void closeNow(IOException cause) {
    if (closeCause == null) closeCause = cause;
    super.closeNow(cause);
  }

  @Override
  void failPending(IOException cause) {
    Write write;
    while ((write = writes.poll()) != null) {
      queued.addAndGet(-write.bytes().remaining());
      write.future().completeExceptionally(cause);
    }
  }

  @Override
  String what() {
    return "raw pipe write end";
  }

  @Override
  public RawWriter writer() {
    return writer;
  }

  @Override
  public String toString() {
    return "AsyncRawWriter[" + end + "]";
  }
}
