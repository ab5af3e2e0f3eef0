package dev.ferry.internal.connection;

import dev.ferry.BufferTooShortException;
import dev.ferry.internal.accept.SocketListener;
import dev.ferry.Address;
import dev.ferry.Sender;
import dev.ferry.Receiver;
import dev.ferry.PeerCredentials;
import dev.ferry.MessageTooLargeException;
import dev.ferry.FramingException;
import dev.ferry.ConnectionOptions;
import dev.ferry.ConnectionClosedException;
import dev.ferry.Connection;
import dev.ferry.codec.Codec;
import dev.ferry.internal.auth.HandshakeChannel;
import dev.ferry.internal.framing.Frames;
import dev.ferry.internal.handle.DescriptorChannel;
import dev.ferry.internal.framing.MessageOutput;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.Transport;
import dev.ferry.internal.transport.Sockets;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one implementation of {@link Connection}, {@link Receiver} and {@link Sender}: the framing of
 * PROTOCOL.md section 1 over a {@link Transport}: a plain socket or TLS.
 *
 * <p>Receive side: a direct buffer holds bytes read ahead of the current message, so one read
 * system call can bring in many small frames and {@link #poll} sees frames already buffered.
 * Send side: small messages are copied with their header into a direct buffer and leave in one
 * write.
 */
public final class FramedConnection implements Connection, DescriptorChannel, AsyncPort {
  /** Receive buffer size; also the largest message (with header) sent in one write. */
  public static final int BUFFER_SIZE = 64 * 1024;

  /**
   * Where both buffers start: enough for a small message in one system call. A read that fills the
   * read-ahead buffer, or a message that does not fit the send buffer, grows it to
   * {@link #BUFFER_SIZE}; so a connection that carries small messages one at a time holds 16 KiB of
   * native memory, not 128 (10,000 of them: 160 MB, not 1.3 GB).
   */
  public static final int INITIAL_BUFFER_SIZE = 8 * 1024;

  /**
   * The longest message an array can hold (a VM may refuse the last few indices): receives into
   * arrays refuse longer ones as too large, whatever the configured limit; receiveTo streams them.
   */
  private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  /** Above this, receiveBytes grows its array as bytes arrive instead of trusting the header. */
  private static final int TRUSTED_ALLOCATION = 1 << 20;

  private final Transport transport;
  private final String description;
  private final long maxMessageSize;

  /** {@link ConnectionOptions#receiveSpin()}, in nanoseconds. */
  private final long spinNanos;
  private final long maxSendSize;
  private final String peer;

  /** A one-way pipe's read end: closed, not made write-only, by a too-large message. */
  private final boolean readOnlyEnd;

  // Guarded by readLock: the receive buffer, in read mode (position..limit = unread bytes).
  private final ReentrantLock readLock = new ReentrantLock();
  private ByteBuffer in;
  private boolean endOfStream;

  // Guarded by writeLock: the send buffer.
  private final ReentrantLock writeLock = new ReentrantLock();
  private ByteBuffer out;

  /** Read once, when first asked; the kernel fixed them at connect time. */
  private volatile PeerCredentials credentials;

  // State only moves towards false.
  private volatile boolean readable;
  private volatile boolean writable;

  public FramedConnection(Transport transport, String description, boolean readable, boolean writable,
      ConnectionOptions options) {
    this.transport = transport;
    this.description = description;
    this.readable = readable;
    this.writable = writable;
    this.readOnlyEnd = readable && !writable;
    this.maxMessageSize = options.maxMessageSize();
    this.spinNanos = options.receiveSpin().toNanos();
    this.maxSendSize = options.maxSendSize();
    this.peer = options.peerPython().map(v -> "python " + v).orElse("the peer");
    this.options = options;
    this.receivingEnd = readable;
    this.sendingEnd = writable;
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public java.util.Optional<PeerCredentials> peerCredentials() {
    PeerCredentials c = credentials;
    if (c == null) {
      try {
        c = Sockets.peerCredentials(transport.channel()).orElse(null);
      } catch (IOException e) {
        return java.util.Optional.empty();
      }
      credentials = c;
    }
    return java.util.Optional.ofNullable(c);
  }

  @Override
  public boolean isReadable() {
    return readable && !transport.isClosed();
  }

  @Override
  public boolean isWritable() {
    return writable && !transport.isClosed();
  }

  @Override
  public boolean isClosed() {
    return transport.isClosed();
  }

  /** The selector provider that can register this connection's socket. */
  public java.nio.channels.spi.SelectorProvider selectorProvider() {
    return transport.channel().provider();
  }

  /**
   * The socket, in non-blocking mode until {@link #releaseSelectableChannel()}, for registering
   * with a selector of the caller's.
   */
  public SelectableChannel selectableChannel() throws IOException {
    return transport.pinNonBlocking();
  }

  /** The caller's selector no longer holds the socket (its key is cancelled). */
  public void releaseSelectableChannel() {
    transport.unpinNonBlocking();
  }

  @Override
  public void close() throws IOException {
    try {
      transport.close();
    } finally {
      for (Runnable w : waitWatchers) w.run(); // ready now: a receive throws at once
    }
  }

  @Override
  public String toString() {
    return "Connection[" + description + (isClosed() ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  @Override
  public byte[] receiveBytes() throws IOException {
    return receiveBytes(maxMessageSize, Deadlines.NONE);
  }

  @Override
  public byte[] receiveBytes(int maxLength) throws IOException {
    if (maxLength < 0) throw new IllegalArgumentException("negative maxlength: " + maxLength);
    return receiveBytes(Math.min(maxLength, maxMessageSize), Deadlines.NONE);
  }

  private byte[] receiveBytes(long limit, long deadline) throws IOException {
    lockForReceive();
    try {
      long length = readHeader(Math.min(limit, MAX_ARRAY), deadline);
      return readPayloadArray((int) length, deadline);
    } finally {
      unlockReceive();
    }
  }

  @Override
  public int receiveBytesInto(byte[] array, int offset) throws IOException {
    Objects.checkFromToIndex(offset, array.length, array.length);
    return receiveBytesInto(ByteBuffer.wrap(array, offset, array.length - offset));
  }

  @Override
  public int receiveBytesInto(ByteBuffer buffer) throws IOException {
    if (buffer.isReadOnly()) throw new IllegalArgumentException("read-only buffer: " + buffer);
    lockForReceive();
    try {
      long length = readHeader(Math.min(maxMessageSize, MAX_ARRAY), Deadlines.NONE);
      if (length > buffer.remaining()) {
        byte[] message = readPayloadArray((int) length, Deadlines.NONE);
        throw new BufferTooShortException(message, buffer.remaining());
      }
      int n = (int) length;
      // Read into the caller's buffer through its own limit, not a slice: a slice per message
      // is garbage on the hot path. Position and limit are as before if the read fails.
      int start = buffer.position();
      int oldLimit = buffer.limit();
      buffer.limit(start + n);
      boolean done = false;
      try {
        readPayload(buffer, Deadlines.NONE);
        done = true;
      } finally {
        buffer.limit(oldLimit);
        if (!done) buffer.position(start);
      }
      return n;
    } finally {
      unlockReceive();
    }
  }

  @Override
  public long receiveTo(WritableByteChannel sink) throws IOException {
    Objects.requireNonNull(sink, "sink");
    lockForReceive();
    try {
      long length = readHeader(maxMessageSize, Deadlines.NONE);
      long left = length;
      while (left > 0) {
        if (!in.hasRemaining()) fillSome(Deadlines.NONE);
        int chunk = (int) Math.min(left, in.remaining());
        ByteBuffer slice = in.slice().limit(chunk);
        while (slice.hasRemaining()) sink.write(slice);
        in.position(in.position() + chunk);
        left -= chunk;
      }
      return length;
    } finally {
      unlockReceive();
    }
  }

  @Override
  public <T> T receive(Codec<T> codec) throws IOException {
    Objects.requireNonNull(codec, "codec");
    lockForReceive();
    try {
      int length = (int) readHeader(Math.min(maxMessageSize, MAX_ARRAY), Deadlines.NONE);
      ByteBuffer payload;
      if (length <= in.capacity()) {
        fill(length, Deadlines.NONE);
        payload = in.slice().limit(length).asReadOnlyBuffer();
        in.position(in.position() + length); // consumed whether or not the codec likes it
      } else {
        payload = ByteBuffer.wrap(readPayloadArray(length, Deadlines.NONE)).asReadOnlyBuffer();
      }
      return codec.decode(payload);
    } finally {
      unlockReceive();
    }
  }

  @Override
  public boolean poll() throws IOException {
    return poll(Duration.ZERO);
  }

  @Override
  public boolean poll(Duration timeout) throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return poll(Deadlines.after(timeout));
  }

  @Override
  public void awaitReadable() throws IOException {
    poll(Deadlines.NONE);
  }

  private boolean poll(long deadline) throws IOException {
    checkReadable();
    try {
      long wait = Math.max(0, Deadlines.remaining(deadline));
      if (!readLock.tryLock(wait, TimeUnit.NANOSECONDS)) return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while polling " + description);
    }
    try {
      checkReadable();
      ensureBuffer();
      if (in.hasRemaining() || endOfStream) return true;
      in.compact();
      int n;
      try {
        n = transport.readWithin(in, deadline);
        if (n < 0) endOfStream = true;
      } finally {
        in.flip();
      }
      growIfFilled();
      return in.hasRemaining() || endOfStream;
    } finally {
      unlockReceive();
    }
  }

  /**
   * For the accept loop's handshakes: reads what has arrived without waiting and returns one whole
   * message of at most {@code maxLength} bytes if it is there, or null if it is not complete yet.
   */
  public byte[] receiveNow(int maxLength) throws IOException {
    return receiveNow(maxLength, false);
  }

  /**
   * As {@link #receiveNow(int)}, for a caller whose selector has just reported this socket
   * readable: then a read that finds nothing means end of stream (junixsocket's non-blocking read
   * returns 0 there, not -1). Without this, a Unix peer that closes with half a frame sent, or
   * with nothing sent, stays readable forever and its selector spins.
   */
  public byte[] receiveNow(int maxLength, boolean reportedReadable) throws IOException {
    lockForReceive();
    try {
      if (!endOfStream) {
        in.compact();
        try {
          boolean room = in.hasRemaining();
          int n = transport.readNow(in);
          if (n < 0 || (n == 0 && room && reportedReadable && transport.emptyReadWhenReadableIsEnd())) {
            endOfStream = true;
          }
        } finally {
          in.flip();
        }
      }
      long frame = bufferedFrame(maxLength);
      if (frame < 0) {
        if (!endOfStream) return null;
        if (in.hasRemaining()) throw truncated();
        throw new EOFException("end of stream");
      }
      long length = readHeader(maxLength, Deadlines.NONE);
      return readPayloadArray((int) length, Deadlines.NONE);
    } finally {
      readLock.unlock();
    }
  }

  /**
   * The size of the whole frame at the head of the buffer if all of it is there, else -1. A
   * header that {@link #readHeader} would refuse counts as complete, so that it gets refused.
   */
  private long bufferedFrame(long limit) {
    int available = in.remaining();
    if (available < Frames.SHORT_HEADER) return -1;
    int header = in.getInt(in.position());
    if (header >= 0) {
      if (header > limit) return 0;
      return available >= Frames.SHORT_HEADER + header ? Frames.SHORT_HEADER + header : -1;
    }
    if (header != Frames.LONG_LENGTH_MARKER) return 0;
    if (available < Frames.SHORT_HEADER + Frames.LONG_LENGTH) return -1;
    long length = in.getLong(in.position() + Frames.SHORT_HEADER);
    if (length < 0 || length > limit) return 0;
    long total = Frames.SHORT_HEADER + Frames.LONG_LENGTH + length;
    return available >= total ? total : -1;
  }

  /**
   * Releases the read lock after a receive or poll, then tells the wait sets holding this
   * connection if bytes or the end of stream stay buffered: their selectors cannot see those.
   */
  private void unlockReceive() {
    Runnable[] watchers = waitWatchers;
    boolean buffered = watchers.length > 0
        && (in != null && (in.hasRemaining() || endOfStream) || transportHasInput());
    readLock.unlock();
    if (buffered) for (Runnable w : watchers) w.run();
  }

  /** Whether the transport holds input of its own (TLS plaintext already decrypted). */
  private boolean transportHasInput() {
    try {
      return transport.hasBufferedInput();
    } catch (IOException e) {
      return true; // a receive fails at once
    }
  }

  private static final Runnable[] NO_WATCHERS = new Runnable[0];

  /** The wait sets' hooks; replaced, never modified, under waitWatcherLock. */
  private volatile Runnable[] waitWatchers = NO_WATCHERS;

  private final Object waitWatcherLock = new Object();

  /** Calls {@code watcher} after receives that leave input buffered, and on close. */
  public void addWaitWatcher(Runnable watcher) {
    synchronized (waitWatcherLock) {
      Runnable[] now = Arrays.copyOf(waitWatchers, waitWatchers.length + 1);
      now[now.length - 1] = watcher;
      waitWatchers = now;
    }
  }

  public void removeWaitWatcher(Runnable watcher) {
    synchronized (waitWatcherLock) {
      Runnable[] now = waitWatchers;
      for (int i = 0; i < now.length; i++) {
        if (now[i] == watcher) {
          Runnable[] less = new Runnable[now.length - 1];
          System.arraycopy(now, 0, less, 0, i);
          System.arraycopy(now, i + 1, less, i, now.length - i - 1);
          waitWatchers = less.length == 0 ? NO_WATCHERS : less;
          return;
        }
      }
    }
  }

  /** Whether an event loop receives for this connection: blocking receives and waits refuse. */
  public boolean receivesAsynchronously() {
    return asyncReceiver;
  }

  /**
   * Whether bytes or end of stream are already buffered, here or inside the transport (TLS
   * plaintext already decrypted), so that {@code Wait} need not select: the socket's readiness
   * would not announce them.
   */
  public boolean hasBufferedInput() {
    if (!readLock.tryLock()) return false; // a receiver is at work; the selector will tell
    try {
      if (in != null && (in.hasRemaining() || endOfStream)) return true;
      return !asyncReceiver && transport.hasBufferedInput();
    } catch (IOException e) {
      return true; // a receive fails at once
    } finally {
      readLock.unlock();
    }
  }

  /** See {@link SocketTransport#readCount()}. */
  public long readCount() {
    return transport.readCount();
  }

  /**
   * For a wait set whose selector reported this socket: reads what has arrived into the
   * read-ahead buffer without waiting, and tells whether a receive would now not block (bytes or
   * the end of the stream buffered, or the connection closed or write-only). {@code
   * readsWhenWatched} is {@link #readCount()} from when the selector began watching the socket: if
   * no read has taken bytes since, a reported socket that gives nothing is at its end
   * (junixsocket's non-blocking read returns 0 there, not -1). A socket error found here reads as
   * the end of the stream. Returns false, without looking, while a receive holds the connection:
   * the caller then watches the socket again.
   */
  public boolean readAhead(long readsWhenWatched) {
    if (!readLock.tryLock()) return false;
    boolean arrived = false;
    try {
      if (!isReadable()) return true;
      if (asyncReceiver) return false;
      ensureBuffer();
      if (in.hasRemaining() || endOfStream) return true;
      boolean untouched = transport.readCount() == readsWhenWatched;
      in.clear();
      int n;
      try {
        n = transport.readNow(in);
      } catch (IOException e) {
        if (!transport.isClosed()) endOfStream = true;
        return true;
      } finally {
        in.flip();
      }
      // Over TLS a record may carry no data (a session ticket): there an empty read proves nothing.
      if (n < 0 || (n == 0 && untouched && transport.emptyReadWhenReadableIsEnd())) endOfStream = true;
      arrived = in.hasRemaining() || endOfStream;
      return arrived;
    } finally {
      readLock.unlock();
      // Other wait sets holding this connection cannot see on the socket what is now buffered.
      if (arrived) for (Runnable w : waitWatchers) w.run();
    }
  }

  private void lockForReceive() throws IOException {
    lock(readLock, this::checkReadable, "receive");
    ensureBuffer();
  }

  /** Takes {@code lock}, checking the state before waiting for it and again once it is held. */
  private void lock(ReentrantLock lock, StateCheck check, String action) throws IOException {
    check.run();
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to " + action + " on " + description);
    }
    try {
      check.run();
    } catch (IOException | RuntimeException e) {
      lock.unlock();
      throw e;
    }
  }

  private interface StateCheck {
    void run() throws IOException;
  }

  private void checkReadable() throws IOException {
    if (transport.isClosed()) throw new ConnectionClosedException("connection is closed");
    if (!readable) throw new IllegalStateException("connection is write-only");
    if (asyncReceiver) throw new IllegalStateException("connection receives asynchronously");
  }

  /**
   * Grows the read-ahead buffer once a read filled it: the peer sends faster than one small buffer
   * drains, and batching reads is what makes small messages cheap. Call in the flipped state.
   */
  private void growIfFilled() {
    if (in.limit() < in.capacity() || in.capacity() >= BUFFER_SIZE) return;
    ByteBuffer bigger = ByteBuffer.allocateDirect(BUFFER_SIZE);
    bigger.put(in).flip();
    in = bigger;
  }

  private void ensureBuffer() {
    if (in == null) in = ByteBuffer.allocateDirect(INITIAL_BUFFER_SIZE).flip();
  }

  /**
   * Reads one header and checks the declared length against {@code limit}.
   *
   * <pre>
   *   0                   4                                  12
   *   +-------------------+
   *   | length (int32 BE) |  0 <= length <= 0x7fffffff: the payload follows
   *   +-------------------+----------------------------------+
   *   | ff ff ff ff       | length (uint64 BE)               |  any length (Python 3.8+)
   *   +-------------------+----------------------------------+
   * </pre>
   */
  private long readHeader(long limit, long deadline) throws IOException {
    if (!fillOrEnd(Frames.SHORT_HEADER, deadline)) throw new EOFException("end of stream");
    transport.discardDescriptorsBefore(streamPosition()); // earlier messages left them unclaimed
    int header = in.getInt();
    long length = header;
    if (header < 0) {
      if (header != Frames.LONG_LENGTH_MARKER) {
        readable = false;
        throw new FramingException("negative message length: " + header);
      }
      fill(Frames.LONG_LENGTH, deadline);
      length = in.getLong();
      if (length < 0) {
        readable = false;
        throw new FramingException(
            "message length out of range: " + Long.toUnsignedString(length));
      }
    }
    if (length > limit) throw tooLarge(length, limit);
    return length;
  }

  private MessageTooLargeException tooLarge(long length, long limit) throws IOException {
    readable = false;
    if (readOnlyEnd) transport.close();
    return new MessageTooLargeException(length, limit);
  }

  /** Reads a payload whose length passed the limit check, without trusting that length for allocation. */
  private byte[] readPayloadArray(int length, long deadline) throws IOException {
    if (length <= TRUSTED_ALLOCATION || length <= in.remaining()) {
      byte[] message = new byte[length];
      readPayload(ByteBuffer.wrap(message), deadline);
      return message;
    }
    byte[] message = new byte[TRUSTED_ALLOCATION];
    int filled = 0;
    while (true) {
      ByteBuffer target = ByteBuffer.wrap(message, filled, message.length - filled);
      readPayload(target, deadline);
      filled = message.length;
      if (filled == length) return message;
      message = Arrays.copyOf(message, (int) Math.min(length, 2L * filled));
    }
  }

  /** Fills {@code target} from the stream; end of stream here is inside a frame. */
  private void readPayload(ByteBuffer target, long deadline) throws IOException {
    while (target.hasRemaining()) {
      if (in.hasRemaining()) {
        int n = Math.min(in.remaining(), target.remaining());
        int oldLimit = in.limit();
        in.limit(in.position() + n);
        target.put(in);
        in.limit(oldLimit);
      } else if (target.remaining() >= in.capacity()) {
        // Large rest: read straight into the caller's memory, skipping a copy.
        int n = transport.readLarge(target, deadline);
        if (n < 0) throw truncated();
      } else {
        fillSome(deadline);
      }
    }
  }

  /** Reads at least one more byte into the (empty) receive buffer. */
  private void fillSome(long deadline) throws IOException {
    in.clear();
    int n;
    try {
      n = transport.read(in, deadline);
    } finally {
      in.flip();
    }
    if (n < 0) throw truncated();
    growIfFilled();
  }

  /** Makes at least {@code count} bytes available; end of stream is inside a frame. */
  private void fill(int count, long deadline) throws IOException {
    if (!fillOrEnd(count, deadline) || in.remaining() < count) throw truncated();
  }

  /**
   * Makes at least {@code count} bytes available. Returns false at a clean end of stream (nothing
   * buffered); throws if the stream ends with some but fewer bytes.
   */
  private boolean fillOrEnd(int count, long deadline) throws IOException {
    if (in.remaining() >= count) return true;
    if (in.capacity() - in.position() < count) in.compact().flip();
    while (in.remaining() < count) {
      if (endOfStream) {
        if (in.hasRemaining()) throw truncated();
        return false;
      }
      int start = in.position();
      in.position(in.limit()).limit(in.capacity());
      int n;
      try {
        n = spinNanos > 0 ? spin(in, deadline) : 0;
        if (n == 0) n = transport.read(in, deadline);
      } finally {
        in.limit(in.position()).position(start);
      }
      if (n > 0) growIfFilled();
      if (n < 0) endOfStream = true;
    }
    return true;
  }

  /**
   * Polls the socket for input for up to {@link #spinNanos} (and no later than {@code deadline}):
   * a count, or 0 if nothing came (junixsocket reports end of stream as 0 here too; the
   * transport's own wait that follows tells).
   */
  private int spin(ByteBuffer dst, long deadline) throws IOException {
    long start = System.nanoTime();
    long spin = deadline == Deadlines.NONE ? spinNanos : Math.min(spinNanos, deadline - start);
    do {
      // An interrupt is the sleeping read's to report, as without spin (found by review).
      if (Thread.currentThread().isInterrupted()) return 0;
      int n = transport.readNow(dst);
      if (n != 0) return n;
      Thread.onSpinWait();
    } while (System.nanoTime() - start < spin);
    return 0;
  }

  private FramingException truncated() {
    readable = false;
    return new FramingException("got end of file during message");
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  @Override
  public void sendBytes(byte[] bytes) throws IOException {
    sendBytes(ByteBuffer.wrap(bytes));
  }

  @Override
  public void sendBytes(byte[] bytes, int offset, int size) throws IOException {
    Objects.checkFromIndexSize(offset, size, bytes.length);
    sendBytes(ByteBuffer.wrap(bytes, offset, size));
  }

  @Override
  public void sendBytes(ByteBuffer buffer) throws IOException {
    int length = buffer.remaining();
    lockForSend();
    try {
      ensureSendBuffer(Frames.SHORT_HEADER + (long) length);
      out.clear();
      out.putInt(length);
      if (length <= out.remaining()) {
        out.put(buffer);
        out.flip();
        transport.writeFully(out);
      } else {
        transport.prepareWrite(length);
        out.flip();
        transport.writeFully(out, buffer);
      }
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  public void sendFrom(ReadableByteChannel source, long size) throws IOException {
    Objects.requireNonNull(source, "source");
    if (size < 0) throw new IllegalArgumentException("size < 0: " + size);
    if (size > maxSendSize) throw tooLongToSend(size);
    lockForSend();
    try {
      ensureSendBuffer(Frames.SHORT_HEADER + Frames.LONG_LENGTH + size);
      transport.prepareWrite(size);
      out.clear();
      Frames.putHeader(out, size);
      long left = size;
      while (true) {
        int room = (int) Math.min(left, out.remaining());
        out.limit(out.position() + room);
        while (out.hasRemaining()) {
          if (source.read(out) < 0) {
            // The peer was promised bytes that will never come: the stream is unusable.
            transport.close();
            throw new EOFException("source ended before " + size + " bytes");
          }
        }
        left -= room;
        out.flip();
        transport.writeFully(out);
        if (left == 0) return;
        out.clear();
      }
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  public <T> void send(T value, Codec<? super T> codec) throws IOException {
    Objects.requireNonNull(codec, "codec");
    MessageOutput message = new MessageOutput();
    codec.encode(value, message);
    ByteBuffer frame = message.toFrame();
    lockForSend();
    try {
      transport.prepareWrite(frame.remaining());
      transport.writeFully(frame);
    } finally {
      writeLock.unlock();
    }
  }

  private void lockForSend() throws IOException {
    lock(writeLock, this::checkWritable, "send");
    if (writeLock.getHoldCount() > 1) {
      // Only the event loop keeps the lock between calls, while a message of its is half
      // written: a blocking send from a stage on the loop thread would land inside it.
      writeLock.unlock();
      throw new IllegalStateException("a blocking send on the event loop's thread while it is"
          + " writing a message on this connection: use sendAsync there");
    }
  }

  private void checkWritable() throws IOException {
    if (transport.isClosed()) throw new ConnectionClosedException("connection is closed");
    if (!writable) throw new IllegalStateException("connection is read-only");
  }

  /** A send buffer for a frame of {@code frameSize} bytes: the small one unless it is too small. */
  private void ensureSendBuffer(long frameSize) {
    int wanted = frameSize > INITIAL_BUFFER_SIZE ? BUFFER_SIZE : INITIAL_BUFFER_SIZE;
    if (out == null || out.capacity() < wanted) out = ByteBuffer.allocateDirect(wanted);
  }

  // ---------------------------------------------------------------------------------------------
  // Handshake access: framed messages with a deadline, for the authentication code.

  public HandshakeChannel handshakeChannel(long deadline) {
    return new HandshakeChannel() {
      @Override
      public void sendMessage(byte[] message) throws IOException {
        sendBytes(message);
      }

      @Override
      public byte[] receiveMessage(int maxLength) throws IOException {
        return receiveBytes(maxLength, deadline);
      }
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Descriptor passing, for dev.ferry.handle (Unix sockets only).

  /** For connections adopted from received descriptors. */
  private final ConnectionOptions options;

  /** What this end was made to do, before any too-large message changed it. */
  private final boolean receivingEnd;
  private final boolean sendingEnd;

  /** The stream position of the next unread byte. Call with the read lock held. */
  private long streamPosition() {
    return transport.bytesRead() - in.remaining();
  }

  @Override
  public boolean passesDescriptors() {
    return transport.passesDescriptors();
  }

  @Override
  public java.io.FileDescriptor fileDescriptor() throws IOException {
    return transport.fileDescriptor();
  }

  @Override
  public boolean receivingEnd() {
    return receivingEnd;
  }

  @Override
  public boolean sendingEnd() {
    return sendingEnd;
  }

  @Override
  public void sendWithDescriptors(byte[] payload, java.io.FileDescriptor[] fds)
      throws IOException {
    ByteBuffer frame = ByteBuffer.allocate(Frames.SHORT_HEADER + payload.length);
    frame.putInt(payload.length).put(payload).flip();
    lockForSend();
    try {
      transport.writeFully(frame, fds);
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  public Received receiveWithDescriptors() throws IOException {
    lockForReceive();
    try {
      if (!fillOrEnd(Frames.SHORT_HEADER, Deadlines.NONE)) throw new EOFException("end of stream");
      long start = streamPosition();
      long length = readHeader(Math.min(maxMessageSize, MAX_ARRAY), Deadlines.NONE);
      byte[] payload = readPayloadArray((int) length, Deadlines.NONE);
      return new Received(payload, transport.takeDescriptors(start, streamPosition()));
    } finally {
      unlockReceive();
    }
  }

  @Override
  public void sendByteWithDescriptors(byte value, java.io.FileDescriptor[] fds)
      throws IOException {
    lockForSend();
    try {
      transport.writeFully(ByteBuffer.wrap(new byte[] {value}), fds);
    } finally {
      writeLock.unlock();
    }
  }

  @Override
  public Received receiveByteWithDescriptors() throws IOException {
    lockForReceive();
    try {
      if (!fillOrEnd(1, Deadlines.NONE)) throw new EOFException("end of stream");
      long start = streamPosition();
      transport.discardDescriptorsBefore(start);
      byte value = in.get();
      return new Received(new byte[] {value}, transport.takeDescriptors(start, start + 1));
    } finally {
      unlockReceive();
    }
  }

  @Override
  public void keepPeerCopiesOnClose() {
    transport.keepPeerCopiesOnClose();
  }

  @Override
  public Connection adopt(java.nio.channels.SocketChannel channel, String description,
      boolean readable, boolean writable) throws IOException {
    SocketTransport adopted = new SocketTransport(channel);
    // The sender may still hold the socket: closing this copy must not shut it down for them.
    adopted.keepPeerCopiesOnClose();
    return new FramedConnection(adopted, description, readable, writable, options);
  }

  @Override
  public AutoCloseable adoptListener(java.nio.channels.ServerSocketChannel server, Address address,
      ConnectionOptions listenerOptions) throws IOException {
    return SocketListener.adopt(server, address, listenerOptions);
  }

  // ---------------------------------------------------------------------------------------------
  // Event loop access (dev.ferry.async): non-blocking framing for one loop thread.

  /** Set once, under readLock, when an event loop takes over receiving; blocking receives refuse. */
  private volatile boolean asyncReceiver;

  /** Set once, under readLock, when an event loop takes over sending only. */
  private volatile boolean asyncSender;

  // Guarded by readLock, used by the event loop only: the message being assembled.
  private byte[] partial;
  private int partialFilled;
  private int partialLength;

  // Guarded by readLock, used by the event loop only: the message being streamed to a sink (its
  // length, -1 for none, and the bytes still to come), and the bytes of an abandoned message still
  // to be skipped before the next header.
  private long streamLength = -1;
  private long streamLeft;
  private long skipLeft;

  /** The most bytes one call of {@link #transferAvailable} moves, so that other connections on the loop get their turn. */
  private static final int TRANSFER_BUDGET = 1 << 20;

  @Override
  public SocketChannel channel() {
    return transport.channel();
  }

  @Override
  public void claimAsync(boolean receive) {
    if (!readLock.tryLock()) throw new IllegalStateException("a blocking receive is in progress");
    try {
      if (asyncReceiver) throw new IllegalStateException("connection receives asynchronously already");
      if (asyncSender) throw new IllegalStateException("connection sends asynchronously already");
      try {
        // For good: the loop's selector holds the socket from now on, also for sending only.
        transport.pinNonBlocking();
      } catch (IOException e) {
        throw new IllegalStateException("connection is closed", e);
      }
      if (receive) asyncReceiver = true; else asyncSender = true;
    } finally {
      readLock.unlock();
    }
  }

  /**
   * Reads through the loop's {@code scratch} buffer instead of a buffer of this connection's own,
   * so that an idle connection holds no receive buffer: bytes left over (frames nobody asked for
   * yet, or part of a header) move to an exact-size heap buffer until the next call.
   */
  @Override
  public byte[] receiveAvailable(long limit, boolean selected, boolean hungUp, ByteBuffer scratch)
      throws IOException {
    lockIntoScratch(scratch);
    try {
      return assemble(limit, selected, hungUp);
    } finally {
      unlockFromScratch();
    }
  }

  /**
   * Event loop reads: takes the read lock and makes {@code scratch} the receive buffer, holding
   * what this connection had buffered. {@link #unlockFromScratch()} moves what is left over to an
   * exact-size heap buffer (or none), so that an idle connection holds no 64 KiB buffer of its own.
   * (Two calls, not one taking a lambda: this runs for every readable event.)
   */
  private void lockIntoScratch(ByteBuffer scratch) throws IOException {
    readLock.lock();
    try {
      if (transport.isClosed()) throw new ConnectionClosedException("connection is closed");
      if (!readable) throw new IllegalStateException("connection is write-only");
    } catch (IOException | RuntimeException e) {
      readLock.unlock();
      throw e;
    }
    scratch.clear();
    if (in != null) scratch.put(in);
    in = scratch.flip();
  }

  private void unlockFromScratch() {
    try {
      if (in.hasRemaining()) {
        ByteBuffer keep = ByteBuffer.allocate(in.remaining());
        in = keep.put(in).flip();
      } else {
        in = null;
      }
    } finally {
      readLock.unlock();
    }
  }

  private byte[] assemble(long limit, boolean selected, boolean hungUp) throws IOException {
    if (streamLength >= 0) abandonStreamLocked(); // the streaming receive that began it is gone
    boolean first = selected;
    while (true) {
      discardSkipped();
      if (partial == null && skipLeft == 0 && headerBuffered()) {
        long length = readHeader(limit, Deadlines.NONE); // buffered: does not read
        if (length > MAX_ARRAY) throw tooLarge(length, MAX_ARRAY);
        partialLength = (int) length;
        partial = new byte[Math.min(partialLength, Math.max(TRUSTED_ALLOCATION, in.remaining()))];
        partialFilled = 0;
      }
      if (partial != null) {
        int n = Math.min(in.remaining(), partialLength - partialFilled);
        if (partialFilled + n > partial.length) {
          partial = Arrays.copyOf(partial, (int) Math.min(partialLength,
              Math.max(partialFilled + n, 2L * partial.length)));
        }
        in.get(partial, partialFilled, n);
        partialFilled += n;
        if (partialFilled == partialLength) {
          byte[] message = partial;
          partial = null;
          return message;
        }
      }
      if (endOfStream) {
        if (partial != null || in.hasRemaining() || skipLeft > 0) throw truncated();
        throw new EOFException("end of stream");
      }
      int n;
      int room = partial == null ? 0 : partialLength - partialFilled;
      if (room >= in.capacity() && room <= partial.length - partialFilled) {
        // Large rest of a message: read straight into it, skipping a copy.
        n = transport.readNow(ByteBuffer.wrap(partial, partialFilled, room));
        if (n > 0) partialFilled += n;
      } else {
        n = readNowIntoBuffer();
      }
      if (atEnd(n, first, hungUp)) {
        endOfStream = true;
      } else if (n == 0) {
        return null;
      }
      first = false;
    }
  }


  /** Whether a non-blocking read that returned {@code n} found the end of the stream. */
  private boolean atEnd(int n, boolean selected, boolean hungUp) {
    // junixsocket's non-blocking read gives 0, not -1, at end of stream (see SocketTransport).
    return n < 0
        || (n == 0 && (selected || hungUp) && channel().provider() != SelectorProvider.provider());
  }

  /** Drops buffered bytes of an abandoned message. */
  private void discardSkipped() {
    int n = (int) Math.min(skipLeft, in.remaining());
    in.position(in.position() + n);
    skipLeft -= n;
  }

  @Override
  public long transferAvailable(long limit, WritableByteChannel sink, boolean selected,
      boolean hungUp, ByteBuffer scratch) throws IOException {
    lockIntoScratch(scratch);
    try {
      return transfer(limit, sink, selected, hungUp);
    } finally {
      unlockFromScratch();
    }
  }

  private long transfer(long limit, WritableByteChannel sink, boolean selected, boolean hungUp)
      throws IOException {
    boolean first = selected;
    long moved = 0;
    while (true) {
      discardSkipped();
      if (streamLength < 0 && skipLeft == 0) {
        if (partial != null) {
          // An array receive began this message and was cancelled: the sink gets it from the start.
          streamLength = partialLength;
          streamLeft = partialLength - partialFilled;
          ByteBuffer started = ByteBuffer.wrap(partial, 0, partialFilled);
          partial = null;
          writeToSink(sink, started);
        } else if (headerBuffered()) {
          streamLength = readHeader(limit, Deadlines.NONE); // buffered: does not read
          streamLeft = streamLength;
        }
      }
      if (streamLength >= 0) {
        int n = (int) Math.min(in.remaining(), streamLeft);
        ByteBuffer chunk = in.slice().limit(n);
        in.position(in.position() + n);
        streamLeft -= n;
        moved += n;
        writeToSink(sink, chunk);
        if (streamLeft == 0) {
          long length = streamLength;
          streamLength = -1;
          return length;
        }
      }
      if (endOfStream) {
        if (streamLength >= 0 || in.hasRemaining() || skipLeft > 0) throw truncated();
        throw new EOFException("end of stream");
      }
      if (moved >= TRANSFER_BUDGET) return -1; // the selector reports the rest
      int n = readNowIntoBuffer();
      if (atEnd(n, first, hungUp)) {
        endOfStream = true;
      } else if (n == 0) {
        return -1;
      }
      first = false;
    }
  }

  /** Reads what the socket has now behind the unread bytes of {@link #in}; as readNow. */
  private int readNowIntoBuffer() throws IOException {
    in.compact();
    try {
      return transport.readNow(in);
    } finally {
      in.flip();
    }
  }

  /** Writes all of {@code chunk}; if the sink fails, the rest of the message is skipped. */
  private void writeToSink(WritableByteChannel sink, ByteBuffer chunk) throws IOException {
    try {
      while (chunk.hasRemaining()) {
        if (sink.write(chunk) == 0) {
          throw new IOException("sink took no bytes: receiveToAsync needs a blocking sink, not " + sink);
        }
      }
    } catch (IOException | RuntimeException e) {
      abandonStreamLocked();
      throw e;
    }
  }

  @Override
  public void abandonStream() {
    readLock.lock();
    try {
      abandonStreamLocked();
    } finally {
      readLock.unlock();
    }
  }

  private void abandonStreamLocked() {
    if (streamLength < 0) return;
    skipLeft += streamLeft;
    streamLength = -1;
    streamLeft = 0;
  }

  private boolean headerBuffered() {
    int available = in.remaining();
    if (available < Frames.SHORT_HEADER) return false;
    return in.getInt(in.position()) != Frames.LONG_LENGTH_MARKER
        || available >= Frames.SHORT_HEADER + Frames.LONG_LENGTH;
  }

  @Override
  public boolean tryLockSend() {
    return writeLock.tryLock();
  }

  @Override
  public void unlockSend() {
    writeLock.unlock();
  }

  @Override
  public int writeNow(ByteBuffer frame) throws IOException {
    if (transport.isClosed()) throw new ConnectionClosedException("connection is closed");
    if (!writable) throw new IllegalStateException("connection is read-only");
    return transport.writeNow(frame);
  }

  @Override
  public void prepareWrite(long size) {
    transport.prepareWrite(size);
  }

  @Override
  public boolean hasPendingOutput() {
    return transport.hasPendingOutput();
  }

  @Override
  public long maxSendSize() {
    return maxSendSize;
  }

  @Override
  public IllegalArgumentException tooLongToSend(long size) {
    return new IllegalArgumentException("message of " + size + " bytes is over " + maxSendSize
        + ", the most " + peer + " can receive (python 3.8+ reads longer ones)");
  }

  @Override
  public long maxMessageSize() {
    return maxMessageSize;
  }

  /**
   * Drops the 64 KiB direct buffers the handshake allocated, where nothing is in them and no other
   * thread holds them: an idle authenticated connection then costs no native memory. The next
   * receive or send allocates its buffer again.
   */
  public void trimBuffers() {
    trimSendBuffer();
    if (!readLock.tryLock()) return;
    try {
      if (in != null && !in.hasRemaining() && !endOfStream) in = null;
    } finally {
      readLock.unlock();
    }
  }

  @Override
  public void trimSendBuffer() {
    if (!writeLock.tryLock()) return;
    try {
      out = null;
    } finally {
      writeLock.unlock();
    }
  }
}
