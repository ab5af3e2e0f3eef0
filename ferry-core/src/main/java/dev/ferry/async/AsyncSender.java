package dev.ferry.async;

import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Pipe;
import dev.ferry.Sender;
import dev.ferry.codec.Codec;
import dev.ferry.internal.async.AsyncEndpoint;
import dev.ferry.internal.async.LoopGroup;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.CompletableFuture;

/**
 * The sending side of a connection driven by {@link EventLoops}: the asynchronous twin of
 * {@link Sender}, for the write end of a one-way {@link Pipe} or any connection that
 * this process only writes to asynchronously. Sends return {@link CompletableFuture}s and hold no
 * thread while the peer is slow to read.
 *
 * <pre>{@code
 * Pipe.OneWay pipe = Pipe.oneWay();
 * AsyncSender tx = AsyncSender.of(pipe.writer(), loops);
 * tx.sendAsync("hi", Codecs.utf8()).join();
 * }</pre>
 *
 * <p>Everything {@link AsyncConnection} promises about sending holds here: futures complete in
 * call order on the loop thread, once the message was handed to the operating system; a send
 * withdrawn by cancelling before any of its bytes left is not sent, one that started goes out
 * whole (and cannot be cancelled: its future completes when it was handed over); the send queue is bounded by {@link EventLoops#sendQueueBytes()}; blocking sends on
 * {@link #sender()} mix with asynchronous ones, each message whole. Wrapping does not touch the
 * receive side: a duplex {@link Connection} wrapped this way still receives with
 * blocking calls.
 *
 * <p>Implemented by Ferry only.
 */
public interface AsyncSender extends AutoCloseable {

  /**
   * Sends on {@code sender} from a loop of {@code loops}.
   *
   * @throws IllegalStateException if it is closed or read-only, or it was wrapped already
   * @throws IllegalArgumentException if {@code loops} did not come from {@link EventLoops#open}
   */
  static AsyncSender of(Sender sender, EventLoops loops) {
    return AsyncEndpoint.open(sender, LoopGroup.of(loops), AsyncEndpoint.Role.SENDER).senderView();
  }

  /** The wrapped end: for its state, and for blocking sends. */
  Sender sender();

  /**
   * Sends all of {@code bytes} as one message; the future completes once it was handed to the
   * operating system. Python: {@code send_bytes(buf)}.
   */
  CompletableFuture<Void> sendAsync(byte[] bytes);

  /**
   * Sends the remaining bytes of {@code buffer} as one message, and advances its position. A
   * buffer of 8 KiB or more is written from where it is, not copied (a smaller one may be, or may
   * wait as it is while the queue is full): leave it alone until the future completes.
   */
  CompletableFuture<Void> sendAsync(ByteBuffer buffer);

  /**
   * Encodes {@code value} with {@code codec} (on this thread, or on the loop if the queue is
   * full) and sends it as one message. An encoding failure fails the future.
   */
  <T> CompletableFuture<Void> sendAsync(T value, Codec<? super T> codec);

  /**
   * Sends exactly {@code size} bytes read from {@code source} as one message, of any length: the
   * twin of {@link Sender#sendFrom}. Above 2^31-1 bytes the header takes its 64-bit form, which
   * only Python 3.8 and later can read. The message waits its turn in the queue like any other;
   * then {@code source} is read on the loop thread, one piece of up to 64 KiB at a time as the
   * socket takes them, so it must give bytes without waiting long (a file, a buffer in memory).
   * A source that gives 0 bytes is asked again a millisecond later.
   *
   * <p>The future fails with {@link EOFException} if {@code source} ends early, and with
   * its exception if it throws; once bytes of the message have left, the connection is closed
   * then, since the peer was promised bytes that will never come.
   *
   * <p>A {@code size} over {@link ConnectionOptions#maxSendSize()} fails the future
   * with {@link IllegalArgumentException} before anything is read or sent, as
   * {@link #sendAsync(byte[])} does.
   *
   * @throws IllegalArgumentException if {@code size} is negative
   */
  CompletableFuture<Void> sendFromAsync(ReadableByteChannel source, long size);

  /** Bytes of encoded messages queued and not yet written; for monitoring. */
  long queuedBytes();

  /** Whether this end is closed (by {@link #close()} or its event loops). */
  boolean isClosed();

  /** Closes the end and fails pending futures with ConnectionClosedException. Idempotent. */
  @Override
  void close() throws IOException;
}
