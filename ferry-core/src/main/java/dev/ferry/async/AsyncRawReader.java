package dev.ferry.async;

import dev.ferry.ConnectionClosedException;
import dev.ferry.RawReader;
import dev.ferry.internal.async.AsyncRawReadEnd;
import dev.ferry.internal.async.LoopGroup;
import java.io.EOFException;
import java.util.concurrent.CompletableFuture;

/**
 * The read end of a {@link dev.ferry.RawPipe} driven by {@link EventLoops}: the asynchronous twin
 * of {@link RawReader}, and Ferry's counterpart of asyncio's {@code StreamReader} (aiopipe's
 * {@code await rx.open(loop)}). Reads return {@link CompletableFuture}s and hold no thread while
 * they wait.
 *
 * <pre>{@code
 * AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops);
 * rx.readLine(65536).thenAccept(line -> ...);   // Python: await stream.readline()
 * }</pre>
 *
 * <p>Reads complete in call order, on the loop thread, each with the bytes that follow the
 * previous one's. A read that is cancelled or completed from outside before it had its bytes
 * ({@code cancel}, {@code orTimeout}) leaves them to the next read: no byte is lost or skipped.
 * The loop reads from the pipe only while a read waits, so a writer that is ahead is held back
 * by the kernel's buffer. {@link #close()}, from any thread, closes the end and fails every
 * pending read with {@link ConnectionClosedException}. Wrapping hands the end to the loop for
 * good: blocking reads on it then throw {@link IllegalStateException}.
 *
 * <p>Implemented by Ferry only.
 */
public interface AsyncRawReader extends AutoCloseable {
  /**
   * Hands {@code reader} to a loop of {@code loops}, for good.
   *
   * @throws IllegalStateException if it is closed, a thread is blocked reading on it, or it was
   *     wrapped already
   */
  static AsyncRawReader of(RawReader reader, EventLoops loops) {
    return AsyncRawReadEnd.open(reader, LoopGroup.of(loops));
  }

  /**
   * At least one and at most {@code max} bytes, as soon as any are there; an empty array at end
   * of stream. Python: {@code await reader.read(max)}.
   *
   * @throws IllegalArgumentException if {@code max < 1}
   */
  CompletableFuture<byte[]> readSome(int max);

  /**
   * Exactly {@code n} bytes. If the stream ends first, the future fails with
   * {@link EOFException} ("stream ended after 3 of 10 bytes"), and those bytes are gone. Python:
   * {@code await reader.readexactly(n)}.
   *
   * @throws IllegalArgumentException if {@code n < 0}
   */
  CompletableFuture<byte[]> readExactly(int n);

  /**
   * The bytes up to and including the next {@code '\n'}; at end of stream what is left (possibly
   * nothing, an empty array). A line longer than {@code limit} bytes (newline included) fails the
   * future with {@link LineTooLongException} and leaves its bytes unread, so that
   * {@link #readSome} can take them. Python: {@code await reader.readline()}, whose limit is
   * 65,536.
   *
   * @throws IllegalArgumentException if {@code limit < 1}
   */
  CompletableFuture<byte[]> readLine(int limit);

  /** The blocking end under this one (its blocking reads throw, see above). */
  RawReader reader();

  boolean isClosed();

  /** Closes the end, from any thread; pending reads fail. Idempotent. */
  @Override
  void close();
}
