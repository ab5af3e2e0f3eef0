package dev.ferry.bench;

import dev.ferry.Connection;
import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Ferry connection driven by {@link AsyncConnection}: sends go out through the event loop,
 * which writes the small frames that queued up meanwhile in one system call ("coalesce queued
 * small sends"). At most {@link #WINDOW} sends are outstanding, so the heap stays bounded; when
 * that many are, the sender waits until half of them completed.
 */
final class AsyncSendLink implements Link {
  static final int WINDOW = 1024;

  private final EventLoops loops;
  private final AsyncConnection async;
  private final CompletableFuture<?>[] window = new CompletableFuture<?>[WINDOW];
  private long sent;

  AsyncSendLink(Connection connection) {
    loops = EventLoops.open(1);
    async = AsyncConnection.of(connection, loops);
  }

  @Override
  public void send(ByteBuffer message) throws IOException {
    int slot = (int) (sent++ % WINDOW);
    if (window[slot] != null && !window[slot].isDone()) {
      // The window is full: wait until half of it has gone (futures complete in order), so that
      // this thread wakes once per half window rather than once per message.
      await(window[(slot + WINDOW / 2) % WINDOW]);
    }
    // From the caller's buffer, as the blocking link sends: a small payload is copied behind its
    // header (or, once the queue is full, straight into the batch), a large one is written from
    // where it is. So the buffer must stay as it is until the send completes: the one-way driver,
    // the only one run through this link, sends one unchanged buffer until the peer's ack.
    window[slot] = async.sendAsync(message.duplicate());
  }

  @Override
  public int receiveInto(ByteBuffer buffer) throws IOException {
    byte[] message = await(async.receiveAsync());
    buffer.put(message);
    return message.length;
  }

  private static <T> T await(CompletableFuture<T> future) throws IOException {
    try {
      return future.get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the event loop");
    } catch (TimeoutException e) {
      throw new IOException("the event loop did not answer within 60 s", e);
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) throw io;
      if (cause instanceof UncheckedIOException u) throw u.getCause();
      throw new IOException(cause);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      async.close();
    } finally {
      loops.close();
    }
  }
}
