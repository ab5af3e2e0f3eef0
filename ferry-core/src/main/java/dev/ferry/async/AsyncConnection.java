package dev.ferry.async;

import dev.ferry.Connection;
import dev.ferry.codec.Codec;
import dev.ferry.internal.async.AsyncEndpoint;
import dev.ferry.internal.async.LoopGroup;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Connection} driven by {@link EventLoops}: sends and receives return
 * {@link CompletableFuture}s and hold no thread while they wait. Same wire format, same peers
 * (a Python {@code multiprocessing.connection} peer sees no difference).
 *
 * <pre>{@code
 * try (EventLoops loops = EventLoops.open()) {
 *   AsyncConnection c = AsyncConnection.of(listener.accept(), loops);
 *   c.receiveAsync().thenCompose(c::sendAsync);  // echo one message
 * }
 * }</pre>
 *
 * <p>Getting one: {@link #of(Connection, EventLoops)} wraps a connection of any transport (an
 * accepted one, a client, a {@link dev.ferry.Pipe} end); {@link dev.ferry.Client#connectAsync}
 * connects and authenticates without blocking; {@link dev.ferry.Listener#acceptAsync()} accepts
 * without blocking.
 *
 * <p><b>Order.</b> Receive futures complete in the order {@code receiveAsync} was called, each
 * with the next whole message; send futures complete in the order {@code sendAsync} was called
 * (calls from different threads are ordered as they reach the connection's loop). Futures
 * complete on the connection's loop thread: stages chained without {@code ...Async} run there
 * and must not block.
 *
 * <p><b>Cancelling and timeouts never lose a message.</b> Cancelling a pending receive, or
 * completing it any other way ({@link CompletableFuture#orTimeout}, {@code complete}), gives the
 * message it would have had to the next receive, whole. {@link #receiveAsync(Duration)} fails
 * with {@link java.net.SocketTimeoutException} when no message came in time, and the connection
 * stays usable. Cancelling a send whose bytes have not started to leave withdraws it; once started
 * it goes out whole.
 *
 * <p><b>Backpressure.</b> Each connection queues at most {@link EventLoops#sendQueueBytes()}
 * bytes of encoded messages (one message is always let in, whatever its size). A send made while
 * the queue is full is not copied or encoded yet: it waits, in order, holding a reference to the
 * caller's array, buffer or value, and its future completes only after there was room and it was
 * written. So a sender that waits for its futures (or limits how many are outstanding) uses
 * bounded memory. Don't modify what you passed to a send until its future completes. A receive
 * reads only while a receive is pending: a peer that sends faster than this side asks is held back
 * by the operating system's socket buffers, not by this process's heap.
 *
 * <p><b>Mixing with blocking calls.</b> Sends may mix: blocking sends on {@link #connection()}
 * and asynchronous sends share the connection's send lock, so every message goes out whole, in
 * the order each side reached the lock. Receiving belongs to the loop: once wrapped, blocking
 * receives and polls on the connection throw {@link IllegalStateException} ("connection receives
 * asynchronously"), and wrapping a connection that a thread is blocked receiving on throws it
 * too. {@link dev.ferry.Wait} and {@link dev.ferry.WaitSet} do not support wrapped connections.
 *
 * <p><b>Ending.</b> {@link #close()} closes the connection and fails every pending future with
 * {@link dev.ferry.ConnectionClosedException}; so does closing the {@link EventLoops}. Close
 * through this object, not through {@link #connection()}, so that the loop learns of it. When
 * the peer closes at a message boundary, pending and later receives fail with
 * {@link java.io.EOFException} (after any messages that had already arrived); a stream that ends
 * inside a message fails them with {@link dev.ferry.FramingException}.
 *
 * <p>Implemented by Ferry only.
 */
public interface AsyncConnection extends AutoCloseable {

  /**
   * Hands {@code connection}'s receiving to a loop of {@code loops}, for good.
   *
   * @throws IllegalStateException if a thread is blocked receiving on it, or it was wrapped
   *     already
   * @throws IllegalArgumentException if {@code connection} or {@code loops} did not come from
   *     Ferry
   */
  static AsyncConnection of(Connection connection, EventLoops loops) {
    return AsyncEndpoint.open(connection, LoopGroup.of(loops));
  }

  /** The wrapped connection: for its description, and for blocking sends. */
  Connection connection();

  /**
   * Sends all of {@code bytes} as one message; the future completes once it was handed to the
   * operating system. Python: {@code send_bytes(buf)}.
   */
  CompletableFuture<Void> sendAsync(byte[] bytes);

  /** Sends the remaining bytes of {@code buffer} as one message, and advances its position. */
  CompletableFuture<Void> sendAsync(ByteBuffer buffer);

  /**
   * Encodes {@code value} with {@code codec} (on this thread, or on the loop if the queue is
   * full) and sends it as one message. An encoding failure fails the future.
   */
  <T> CompletableFuture<Void> sendAsync(T value, Codec<? super T> codec);

  /**
   * The next message, of at most {@link dev.ferry.ConnectionOptions#maxMessageSize()} bytes.
   * Python: {@code recv_bytes()}.
   */
  CompletableFuture<byte[]> receiveAsync();

  /**
   * The next message, or {@link java.net.SocketTimeoutException} if none has arrived whole after
   * {@code timeout}; the message still coming then goes to the next receive.
   */
  CompletableFuture<byte[]> receiveAsync(Duration timeout);

  /**
   * The next message, decoded with {@code codec} on the loop thread. A payload the codec refuses
   * fails the future with {@link dev.ferry.codec.CodecException}; the message is consumed.
   */
  <T> CompletableFuture<T> receiveAsync(Codec<T> codec);

  /** As {@link #receiveAsync(Codec)}, failing after {@code timeout} as {@link #receiveAsync(Duration)}. */
  <T> CompletableFuture<T> receiveAsync(Codec<T> codec, Duration timeout);

  /** Bytes of encoded messages queued and not yet written; for monitoring. */
  long queuedBytes();

  boolean isClosed();

  /** Closes the connection and fails pending futures with ConnectionClosedException. Idempotent. */
  @Override
  void close() throws IOException;
}
