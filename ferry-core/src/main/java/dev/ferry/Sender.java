package dev.ferry;

import dev.ferry.codec.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * The sending side of a connection: a duplex {@link Connection}, or the write end of a one-way
 * {@link Pipe}, which has no way to receive.
 *
 * <p>Sends block until the whole message is handed to the operating system (so a peer that stops
 * reading makes a large send wait). Several threads may send at once; each message goes out whole,
 * never interleaved with another. Messages up to about 64 KiB leave in one system call, header and
 * payload together. Closing the sender from another thread wakes a blocked send with
 * {@link ConnectionClosedException}. A peer that has gone away surfaces as an {@link IOException}
 * from the operating system, such as "Broken pipe".
 */
public sealed interface Sender extends AutoCloseable permits Connection {

  /** Sends all of {@code bytes} as one message. Python: {@code send_bytes(buf)}. */
  void sendBytes(byte[] bytes) throws IOException;

  /**
   * Sends {@code size} bytes of {@code bytes} from {@code offset} as one message.
   *
   * <p>Python: {@code send_bytes(buf, offset, size)}.
   *
   * @throws IndexOutOfBoundsException if the range does not lie within {@code bytes}
   */
  void sendBytes(byte[] bytes, int offset, int size) throws IOException;

  /** Sends the remaining bytes of {@code buffer} as one message and advances its position to its limit. */
  void sendBytes(ByteBuffer buffer) throws IOException;

  /**
   * Sends exactly {@code size} bytes read from {@code in} as one message, of any length: above
   * 2^31-1 bytes the header takes its 64-bit form, which only Python 3.8 and later can read.
   *
   * @throws java.io.EOFException if {@code in} ends early; the connection is closed then, since
   *     the peer was promised bytes that will never come
   */
  void sendFrom(ReadableByteChannel in, long size) throws IOException;

  /** Encodes {@code value} with {@code codec} and sends it as one message. Python: {@code send(obj)}. */
  <T> void send(T value, Codec<? super T> codec) throws IOException;

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

  /** False once closed, or for a read end. */
  boolean isWritable();

  boolean isClosed();

  @Override
  void close() throws IOException;
}
