package dev.ferry;

import dev.ferry.codec.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;

/**
 * The receiving side of a connection: a duplex {@link Connection}, or the read end of a one-way
 * {@link Pipe}, which has no way to send.
 *
 * <p>Every receive returns exactly one whole message. Receives block until a message has arrived;
 * {@link #poll(Duration)} waits without consuming. Several threads may receive at once: each gets
 * whole messages, one thread at a time. Blocking calls park without holding a monitor, so they
 * are fine on virtual threads. Closing the receiver from another thread wakes a blocked receive
 * with {@link ConnectionClosedException}.
 *
 * <p>Failures, for every receive: {@link java.io.EOFException} once the peer has closed at a message
 * boundary; {@link FramingException} if the stream ended inside a message or carries an invalid
 * header; {@link MessageTooLargeException} for a message longer than the limit (see there for what
 * becomes of the connection); {@link ConnectionClosedException} after {@link #close()};
 * {@link IllegalStateException} ("connection is write-only") once a too-large message made this end
 * write-only; {@link java.io.InterruptedIOException} if the thread is interrupted while it waits.
 * Receives into an array or buffer refuse a message longer than 2^31-9 bytes (a Java array's
 * reach) as too large, whatever the limit; {@link #receiveTo} streams one of any length.
 *
 * <p>Interrupts: on a Unix socket, a receive without a timeout on a platform thread waits inside
 * the operating system's {@code read} (one system call per message, the speed of a C program);
 * interrupting it closes the connection, as interrupting any JDK
 * {@link java.nio.channels.InterruptibleChannel} does, and the receive throws
 * {@link java.io.InterruptedIOException}. Elsewhere (TCP, a timeout, {@code poll}, virtual
 * threads) an interrupt leaves the connection open.
 */
public sealed interface Receiver extends AutoCloseable permits Connection {

  /**
   * Receives one message of at most {@link ConnectionOptions#maxMessageSize()} bytes.
   *
   * <p>Python: {@code recv_bytes()}.
   */
  byte[] receiveBytes() throws IOException;

  /**
   * Receives one message of at most {@code maxLength} bytes. A message of exactly
   * {@code maxLength} bytes is accepted.
   *
   * <p>Python: {@code recv_bytes(maxlength)}.
   *
   * @throws IllegalArgumentException if {@code maxLength} is negative
   */
  byte[] receiveBytes(int maxLength) throws IOException;

  /**
   * Receives one message into {@code buffer} from its position, and advances the position past
   * it. Allocates nothing when the message fits.
   *
   * @return the message's length
   * @throws BufferTooShortException if the message is longer than {@code buffer.remaining()};
   *     the message is consumed and carried by the exception, and {@code buffer} is left untouched
   */
  int receiveBytesInto(ByteBuffer buffer) throws IOException;

  /**
   * Receives one message into {@code array} starting at {@code offset}.
   *
   * <p>Python: {@code recv_bytes_into(buffer, offset)}.
   *
   * @return the message's length
   * @throws BufferTooShortException if it does not fit between {@code offset} and the end
   */
  int receiveBytesInto(byte[] array, int offset) throws IOException;

  /**
   * Receives one message of any length up to {@link ConnectionOptions#maxMessageSize()} and writes
   * it to {@code out}, for messages larger than a Java array can hold (over 2 GiB).
   *
   * @return the number of bytes written to {@code out}
   */
  long receiveTo(WritableByteChannel out) throws IOException;

  /**
   * Receives one message and decodes it with {@code codec}. A payload the codec refuses throws
   * {@link dev.ferry.codec.CodecException}; the message is consumed either way.
   *
   * <p>Python: {@code recv()}, with the pickle codec.
   */
  <T> T receive(Codec<T> codec) throws IOException;

  /**
   * Whether a receive would find data now, without blocking: a message (or part of one) has
   * arrived, or the peer has closed. Python: {@code poll()}.
   */
  boolean poll() throws IOException;

  /**
   * Waits up to {@code timeout} for data or end of stream; {@link Duration#ZERO} does not block and
   * negative durations count as zero. Consumes nothing. As in CPython, true means some bytes are
   * there, not necessarily the whole message.
   *
   * <p>Python: {@code poll(timeout)}.
   */
  boolean poll(Duration timeout) throws IOException;

  /** Waits with no time limit until {@link #poll()} would be true. Python: {@code poll(None)}. */
  void awaitReadable() throws IOException;

  /**
   * The operating system's number for this end's socket, for code that hands it on (to a child
   * started with it open, to {@code select} in native code) or logs it. Python: {@code fileno()}.
   *
   * <p>Ownership: the descriptor stays this end's. Do not close it, and do not read or write it
   * while Ferry does; it is closed, and the number may be reused for another file, when this end
   * closes. To keep the socket beyond that, duplicate it (a child process inherits a duplicate; a
   * received copy from {@code dev.ferry.handle.Handles} is the receiver's own).
   *
   * @throws ConnectionClosedException if this end is closed
   * @throws UnsupportedOperationException for a TCP or TLS connection, whose JDK socket does not
   *     show its descriptor; Unix socket connections (pipes, {@code unix:} addresses) do
   */
  int descriptor() throws IOException;

  /** False once closed, once a too-large message made this end write-only, or for a write end. */
  boolean isReadable();

  boolean isClosed();

  /**
   * Closes this end. Idempotent. Wakes threads blocked on it; the peer sees end of stream once no
   * other process holds the connection.
   */
  @Override
  void close() throws IOException;
}
