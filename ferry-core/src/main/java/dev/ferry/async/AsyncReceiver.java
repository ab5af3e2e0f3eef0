package dev.ferry.async;

import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.ConnectionOptions;
import dev.ferry.MessageTooLargeException;
import dev.ferry.Pipe;
import dev.ferry.Receiver;
import dev.ferry.codec.Codec;
import dev.ferry.codec.CodecException;
import dev.ferry.internal.async.AsyncEndpoint;
import dev.ferry.internal.async.LoopGroup;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The receiving side of a connection driven by {@link EventLoops}: the asynchronous twin of
 * {@link Receiver}, for the read end of a one-way {@link Pipe} or any connection that
 * this process only reads from asynchronously. Receives return {@link CompletableFuture}s and hold
 * no thread while they wait.
 *
 * <pre>{@code
 * Pipe.OneWay pipe = Pipe.oneWay();
 * AsyncReceiver rx = AsyncReceiver.of(pipe.reader(), loops);
 * rx.receiveAsync(Codecs.utf8()).thenAccept(System.out::println);
 * }</pre>
 *
 * <p>Everything {@link AsyncConnection} promises about receiving holds here: futures complete
 * in call order on the loop thread; cancelling or timing out a receive gives its message, whole,
 * to the next one; the loop reads only while a receive is pending; end of stream fails pending
 * and later receives with {@link EOFException}; {@link #close()} fails them with
 * {@link ConnectionClosedException}. Wrapping hands the receive side to the loop for
 * good: blocking receives and polls on {@link #receiver()} then throw
 * {@link IllegalStateException} ("connection receives asynchronously"). Wrapping a duplex
 * {@link Connection} this way leaves its sends blocking (use
 * {@link AsyncConnection#of} for both).
 *
 * <p>A message longer than the limit fails its receive with
 * {@link MessageTooLargeException} and, as in CPython, the read end of a one-way pipe
 * is then closed (later receives fail with {@link ConnectionClosedException}) while a
 * duplex connection becomes write-only (later receives fail with
 * {@link IllegalStateException}).
 *
 * <p>Implemented by Ferry only.
 */
public interface AsyncReceiver extends AutoCloseable {

  /**
   * Hands {@code receiver}'s receiving to a loop of {@code loops}, for good.
   *
   * @throws IllegalStateException if it is closed or write-only, a thread is blocked receiving
   *     on it, or it was wrapped already
   * @throws IllegalArgumentException if {@code loops} did not come from {@link EventLoops#open}
   */
  static AsyncReceiver of(Receiver receiver, EventLoops loops) {
    return AsyncEndpoint.open(receiver, LoopGroup.of(loops), AsyncEndpoint.Role.RECEIVER)
        .receiverView();
  }

  /** The wrapped end: for its state. Its blocking receives throw once wrapped. */
  Receiver receiver();

  /**
   * The next message, of at most {@link ConnectionOptions#maxMessageSize()} bytes (and
   * at most 2^31-9, a Java array's reach: longer ones fail as too large, use
   * {@link #receiveToAsync}). Python: {@code recv_bytes()}.
   */
  CompletableFuture<byte[]> receiveAsync();

  /**
   * The next message, or {@link SocketTimeoutException} if none has arrived whole after
   * {@code timeout}; the message still coming then goes to the next receive.
   */
  CompletableFuture<byte[]> receiveAsync(Duration timeout);

  /**
   * The next message, decoded with {@code codec} on the loop thread. A payload the codec refuses
   * fails the future with {@link CodecException}; the message is consumed.
   */
  <T> CompletableFuture<T> receiveAsync(Codec<T> codec);

  /** As {@link #receiveAsync(Codec)}, failing after {@code timeout} as {@link #receiveAsync(Duration)}. */
  <T> CompletableFuture<T> receiveAsync(Codec<T> codec, Duration timeout);

  /**
   * Receives the next message, of any length up to
   * {@link ConnectionOptions#maxMessageSize()}, and writes it to {@code sink} piece by
   * piece as it arrives, for messages larger than a Java array (over 2 GiB); the future completes
   * with the message's length once all of it was written. The twin of
   * {@link Receiver#receiveTo}.
   *
   * <p>{@code sink} is written on the loop thread, so it must take bytes without waiting long (a
   * file, a buffer in memory, a digest); a sink in non-blocking mode that takes nothing stalls
   * the loop. A receive that fails once its message has started (the sink throws, or the future
   * is cancelled or times out) skips the rest of that message, which {@code sink} got part of;
   * the next receive gets the message after it.
   */
  CompletableFuture<Long> receiveToAsync(WritableByteChannel sink);

  /** Whether this end is closed (by {@link #close()}, its event loops, or a too-large message). */
  boolean isClosed();

  /** Closes the end and fails pending futures with ConnectionClosedException. Idempotent. */
  @Override
  void close() throws IOException;
}
