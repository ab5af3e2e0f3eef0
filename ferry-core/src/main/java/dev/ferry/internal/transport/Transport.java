package dev.ferry.internal.transport;

import java.io.FileDescriptor;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A byte stream under one connection: plain ({@link SocketTransport}) or TLS
 * ({@link TlsTransport}) on a non-blocking socket channel, which {@code Wait} and the event loops
 * register with their selectors.
 *
 * <p>Threading: one thread at a time reads ({@link #read}, {@link #readWithin}, {@link #readNow},
 * {@link #hasBufferedInput}) and one thread at a time writes ({@link #writeFully},
 * {@link #writeNow}, {@link #hasPendingOutput}); the caller's read and write locks guarantee it.
 * {@link #close()} may come from any thread and wakes both.
 */
public sealed interface Transport permits SocketTransport, TlsTransport, LaneTransport {

  /** The socket, for selectors: readiness of the socket, see {@link #hasBufferedInput}. */
  SocketChannel channel();

  boolean isClosed();

  /**
   * Reads at least one byte into {@code dst}, waiting until {@code deadline}. Returns the count, or
   * -1 at end of stream.
   *
   * @throws SocketTimeoutException when the deadline passes first
   */
  default int read(ByteBuffer dst, long deadline) throws IOException {
    int n = readWithin(dst, deadline);
    if (n == 0) throw new SocketTimeoutException("receive timed out");
    return n;
  }

  /**
   * Reads at least one byte into {@code dst} unless {@code deadline} passes first. Returns the
   * count, 0 if the deadline passed, or -1 at end of stream.
   */
  int readWithin(ByteBuffer dst, long deadline) throws IOException;

  /**
   * As {@link #read}, for a large part of a message going straight into the caller's memory: a
   * transport may wait differently there, to take more bytes per read.
   */
  default int readLarge(ByteBuffer dst, long deadline) throws IOException {
    return read(dst, deadline);
  }

  /** Reads what is available without waiting: a count, 0 for nothing yet, or -1 at end of stream. */
  int readNow(ByteBuffer dst) throws IOException;

  /**
   * Polls with {@link #readNow} for up to {@code spinNanos}, no later than {@code deadline}, before
   * a read that would sleep (a connection's {@code receiveSpin}): a count, or 0 for nothing (or
   * junixsocket's end of stream, which the read that follows tells).
   */
  default int spinRead(ByteBuffer dst, long spinNanos, long deadline) throws IOException {
    long start = System.nanoTime();
    long spin = deadline == Deadlines.NONE ? spinNanos : Math.min(spinNanos, deadline - start);
    do {
      // An interrupt is the sleeping read's to report, as without spin.
      if (Thread.currentThread().isInterrupted()) return 0;
      int n = readNow(dst);
      if (n != 0) return n;
      Thread.onSpinWait();
    } while (System.nanoTime() - start < spin);
    return 0;
  }

  /**
   * Whether a read of nothing right after a selector reported the socket readable means end of
   * stream. True for plain Unix sockets (junixsocket's non-blocking read returns 0 there, not -1);
   * false for TCP, whose JDK channel returns -1 at the end, and for TLS, where readable ciphertext
   * may be half a record or a record with no data. The frame reader's every end-of-stream
   * decision after a readiness report asks this, so a transport states it once.
   */
  boolean emptyReadWhenReadableIsEnd();

  /**
   * Whether input waits inside the transport that the socket's readiness would not announce:
   * decrypted bytes, or whole records not yet decrypted. Reading thread only.
   */
  default boolean hasBufferedInput() throws IOException {
    return false;
  }

  /**
   * A message of {@code size} bytes is about to be written: a transport may make room for it in
   * the kernel first. Writing thread only.
   */
  default void prepareWrite(long size) {}

  /**
   * Writes all of {@code head}, then all of {@code body}: a transport that can gathers them into
   * the same system calls (a header then never leaves alone, as a packet of its own over TCP).
   */
  default void writeFully(ByteBuffer head, ByteBuffer body) throws IOException {
    writeFully(head);
    writeFully(body);
  }

  /** Writes all of {@code src}, waiting for buffer space as long as it takes. */
  void writeFully(ByteBuffer src) throws IOException;

  /**
   * How many times a write waited for room in a full socket, for {@code MessageSent}'s
   * waitedForRoom; writing thread only. Counted where the transport itself waits (in non-blocking
   * mode, in a selector); a write in blocking mode waits inside the kernel, unseen.
   */
  default long writeWaits() {
    return 0;
  }

  /**
   * Writes what the socket takes without waiting; returns how many bytes of {@code src} it took,
   * possibly 0. A TLS transport may take bytes whose records still wait to leave: see
   * {@link #hasPendingOutput}.
   */
  int writeNow(ByteBuffer src) throws IOException;

  /**
   * Whether bytes taken by {@link #writeNow} still wait inside the transport for socket space; a
   * later {@code writeNow} (with an empty buffer if need be) sends them. Writing thread only.
   */
  default boolean hasPendingOutput() {
    return false;
  }

  /** Closes the socket and wakes any thread waiting on it. Idempotent. */
  void close() throws IOException;

  /**
   * Holds the socket in non-blocking mode, for a selector of another owner ({@code Wait}, an event
   * loop), until {@link #unpinNonBlocking()}; returns the channel to register.
   */
  SocketChannel pinNonBlocking() throws IOException;

  /** Ends one {@link #pinNonBlocking()}: the owner has cancelled its key. */
  void unpinNonBlocking();

  /**
   * How many reads have taken bytes from the socket so far, for telling an empty read at the end
   * of the stream from one that another reader beat to the bytes.
   */
  long readCount();

  // ---------------------------------------------------------------------------------------------
  // Descriptor passing: Unix sockets only; the defaults are those of every other transport.

  /** Whether this socket can carry descriptors (SCM_RIGHTS): a Unix socket. */
  default boolean passesDescriptors() {
    return false;
  }

  /** How many bytes have been read from the socket so far; 0 where descriptors do not pass. */
  default long bytesRead() {
    return 0;
  }

  /** The descriptors received with the stream bytes {@code from} (inclusive) to {@code to}. */
  default FileDescriptor[] takeDescriptors(long from, long to) {
    return new FileDescriptor[0];
  }

  /** Closes the unclaimed descriptors that came with bytes before stream position {@code position}. */
  default void discardDescriptorsBefore(long position) {}

  /** Writes all of {@code src} with {@code fds} attached to its first byte. Unix sockets only. */
  default void writeFully(ByteBuffer src, FileDescriptor[] fds) throws IOException {
    throw new UnsupportedOperationException("descriptors pass over unix sockets only");
  }

  /** Makes {@link #close()} leave the socket open for other processes holding a copy. */
  default void keepPeerCopiesOnClose() {}

  /** This socket's descriptor, for passing it on; Unix sockets only. */
  default FileDescriptor fileDescriptor() throws IOException {
    throw new UnsupportedOperationException("descriptors pass over unix sockets only");
  }
}
