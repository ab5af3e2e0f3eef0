package dev.ferry.async;

import dev.ferry.ConnectionClosedException;
import dev.ferry.RawWriter;
import dev.ferry.internal.async.AsyncRawWriteEnd;
import dev.ferry.internal.async.LoopGroup;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/**
 * The write end of a {@link dev.ferry.RawPipe} driven by {@link EventLoops}: the asynchronous
 * twin of {@link RawWriter}, and Ferry's counterpart of asyncio's {@code StreamWriter}.
 *
 * <p>Writes go out in call order (calls from different threads in the order they reach the
 * loop); each future completes on the loop thread once all of its bytes were handed to the
 * operating system. Nothing is copied: the loop writes from the caller's array or buffer, so
 * don't modify it until its future completes. Backpressure is bounded as for async sends:
 * {@link #queuedBytes()} counts what waits, and a writer that waits for its futures (or, like
 * asyncio's {@code await writer.drain()}, for {@link #drain()}) holds no more than it chose to.
 * A write can be cancelled until its first byte leaves; from then on it goes out whole.
 *
 * <p>Once every copy of the read end is closed, the pending and later writes fail with an
 * {@link java.io.IOException} ("broken pipe: the read end is closed") and this end
 * closes. {@link #close()}, from any
 * thread, closes the end and fails pending writes with {@link ConnectionClosedException}; to let
 * them finish first, close once the last future (or {@link #drain()}) completes.
 *
 * <p>Implemented by Ferry only.
 */
public interface AsyncRawWriter extends AutoCloseable {
  /**
   * Hands {@code writer} to a loop of {@code loops}, for good.
   *
   * @throws IllegalStateException if it is closed, a thread is blocked writing on it, or it was
   *     wrapped already
   */
  static AsyncRawWriter of(RawWriter writer, EventLoops loops) {
    return AsyncRawWriteEnd.open(writer, LoopGroup.of(loops));
  }

  /** Writes all of {@code bytes}. Python: {@code writer.write(bytes)}. */
  CompletableFuture<Void> write(byte[] bytes);

  /** Writes the remaining bytes of {@code buffer}, whose position moves to its limit at once. */
  CompletableFuture<Void> write(ByteBuffer buffer);

  /**
   * Completes once every write made before it has left. Python: {@code await writer.drain()}
   * (which waits only down to a high-water mark).
   */
  CompletableFuture<Void> drain();

  /** Bytes accepted by {@code write} and not yet handed to the operating system. */
  long queuedBytes();

  /** The blocking end under this one (its blocking writes throw). */
  RawWriter writer();

  boolean isClosed();

  /** Closes the end, from any thread; pending writes fail. Idempotent. */
  @Override
  void close();
}
