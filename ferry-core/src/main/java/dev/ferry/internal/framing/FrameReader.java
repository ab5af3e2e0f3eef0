package dev.ferry.internal.framing;

import dev.ferry.FramingException;
import dev.ferry.MessageTooLargeException;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.Transport;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

/**
 * The one frame decoder of the engine: it owns a connection's read-ahead buffer and is the only
 * code that decodes a header (PROTOCOL.md 1.1) or decides that the stream has ended (1.5). It
 * offers what each reader of a connection needs: a blocking header and payload read, a look at
 * whether a whole frame is buffered (the accept loop's handshakes), a read-ahead without waiting
 * (wait sets), and non-blocking assembly or streaming of a message (event loops). The buffer is
 * direct and starts small; a read that fills it grows it, so one read can bring in many frames.
 *
 * <p>Not thread safe: the connection calls it holding its read lock. A cut frame (the end of the
 * stream inside a frame) throws {@link FramingException} and leaves the reader at the end of the
 * stream, so that the next read reports {@link EOFException}, as CPython's next {@code recv} does.
 * A header the reader refuses (malformed, or longer than the limit) leaves the stream out of step:
 * the owner's {@link Refusal} decides what becomes of the connection.
 */
public final class FrameReader {
  /** The read-ahead buffer's size once grown; also the largest frame a sender writes in one go. */
  public static final int BUFFER_SIZE = 64 * 1024;

  /** Where buffers start: 10,000 idle connections then hold 160 MB of native memory, not 1.3 GB. */
  public static final int INITIAL_BUFFER_SIZE = 8 * 1024;

  /** The longest array a VM surely allocates: array reads refuse longer messages as too large. */
  public static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

  /** Above this, an array read grows its array as bytes arrive instead of trusting the header. */
  private static final int TRUSTED_ALLOCATION = 1 << 20;

  /** The most bytes one {@link #transfer} moves: other connections on the loop get their turn. */
  private static final int TRANSFER_BUDGET = 1 << 20;

  /** What the owner does with a refused header: the rest of the stream cannot be read in step. */
  public interface Refusal {
    void refused() throws IOException;
  }

  private final Transport transport;
  private final Refusal refusal;

  /** How long a blocking read polls the socket before it sleeps, in nanoseconds. */
  private final long spinNanos;

  /** Unread bytes, in read mode (position..limit); null while idle and trimmed. */
  private ByteBuffer in;
  private boolean endOfStream;

  /** A blocking read consumed a header and not yet all of its payload. */
  private boolean midFrame;

  // Event loop reads, across calls: the message being assembled; the message being streamed to a
  // sink (its length, -1 for none, and the bytes still to come); the bytes of an abandoned message
  // still to skip before the next header.
  private byte[] partial;
  private int partialFilled;
  private int partialLength;
  private long streamLength = -1;
  private long streamLeft;
  private long skipLeft;

  public FrameReader(Transport transport, long spinNanos, Refusal refusal) {
    this.transport = transport;
    this.spinNanos = spinNanos;
    this.refusal = refusal;
  }

  /** Whether a read found the peer's end of stream (it closed first). */
  public boolean reachedEndOfStream() { return endOfStream; }

  /** Whether bytes or the end of the stream are buffered: a read would not wait. */
  public boolean hasBuffered() {
    return in != null && (in.hasRemaining() || endOfStream);
  }

  /** Whether a blocking read stopped between a header and the end of its payload: out of step. */
  public boolean midFrame() {
    return midFrame;
  }

  /** Drops an empty read-ahead buffer: an idle connection then holds no native memory. */
  public void trim() {
    if (in != null && !in.hasRemaining() && !endOfStream) in = null;
  }

  /** A direct buffer before a read of its own; a scratch's heap leftover has no room to read into. */
  public void ensureBuffer() {
    if (in != null && in.isDirect()) return;
    int size = in == null ? INITIAL_BUFFER_SIZE : Math.max(INITIAL_BUFFER_SIZE, in.remaining());
    ByteBuffer direct = ByteBuffer.allocateDirect(size);
    in = in == null ? direct.flip() : direct.put(in).flip();
  }

  /** The stream position of the next unread byte, for matching received descriptors to bytes. */
  public long streamPosition() {
    return transport.bytesRead() - in.remaining();
  }

  // ---------------------------------------------------------------------------------------------
  // Looking without consuming: poll, wait sets, the accept loop

  /** Waits until {@code deadline} for input, consuming nothing; true if some is buffered. */
  public boolean poll(long deadline) throws IOException {
    ensureBuffer();
    if (hasBuffered()) return true;
    in.compact();
    try {
      if (transport.readWithin(in, deadline) < 0) endOfStream = true;
    } finally {
      in.flip();
    }
    growIfFilled();
    return hasBuffered();
  }

  /**
   * Reads what has arrived without waiting, for a wait set whose selector reported the socket;
   * true if input is now buffered. {@code untouched}: no read took bytes since the selector began
   * watching, so a reported socket that gives nothing is at its end (junixsocket's non-blocking
   * read returns 0 there, not -1). A socket error reads as the end of the stream. An interrupted
   * thread gets false: junixsocket's read would close the socket and lose what the kernel holds.
   */
  public boolean readAhead(boolean untouched) throws IOException {
    ensureBuffer();
    if (hasBuffered()) return true;
    if (Thread.currentThread().isInterrupted()) return false;
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
    return hasBuffered();
  }

  /**
   * Reads what has arrived without waiting; the next message of at most {@code maxLength} bytes
   * if all of it is there, else null. {@code reportedReadable}: a selector has just reported the
   * socket, so that a read of nothing is the end of the stream (or a Unix peer that closes with
   * half a frame sent would stay readable forever and spin the selector).
   */
  public byte[] receiveNow(int maxLength, boolean reportedReadable) throws IOException {
    ensureBuffer();
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
    if (!frameBuffered(maxLength)) {
      if (!endOfStream) return null;
      if (in.hasRemaining()) throw truncated();
      throw new EOFException("end of stream");
    }
    return readArray((int) readHeader(maxLength, Deadlines.NONE), Deadlines.NONE);
  }

  /** Whether the next frame is all buffered; a header {@link #readHeader} refuses counts as whole. */
  private boolean frameBuffered(long limit) {
    int available = in.remaining();
    if (available < Frames.SHORT_HEADER) return false;
    int header = in.getInt(in.position());
    if (header >= 0) return header > limit || available >= Frames.SHORT_HEADER + header;
    if (header != Frames.LONG_LENGTH_MARKER) return true;
    if (available < Frames.SHORT_HEADER + Frames.LONG_LENGTH) return false;
    long length = in.getLong(in.position() + Frames.SHORT_HEADER);
    return length < 0 || length > limit
        || available >= Frames.SHORT_HEADER + Frames.LONG_LENGTH + length;
  }

  // ---------------------------------------------------------------------------------------------
  // Blocking reads: a header, then exactly one of the payload reads

  /**
   * Reads one header and checks the declared length against {@code limit}; consumes nothing
   * unless the whole header is there, so an interrupted wait for it leaves the stream in step.
   *
   * @throws EOFException at a clean end of the stream (nothing buffered)
   * @throws FramingException for a cut or malformed header
   * @throws MessageTooLargeException for a length over {@code limit}
   */
  public long readHeader(long limit, long deadline) throws IOException {
    if (!fillOrEnd(Frames.SHORT_HEADER, deadline)) throw new EOFException("end of stream");
    transport.discardDescriptorsBefore(streamPosition()); // earlier messages left them unclaimed
    int header = in.getInt(in.position());
    long length = header;
    int size = Frames.SHORT_HEADER;
    if (header < 0) {
      if (header != Frames.LONG_LENGTH_MARKER) {
        throw refuse(new FramingException("negative message length: " + header));
      }
      size += Frames.LONG_LENGTH;
      fill(size, deadline);
      length = in.getLong(in.position() + Frames.SHORT_HEADER);
      if (length < 0) {
        throw refuse(new FramingException("message length out of range: " + Long.toUnsignedString(length)));
      }
    }
    if (length > limit) throw refuse(new MessageTooLargeException(length, limit));
    in.position(in.position() + size);
    midFrame = true;
    return length;
  }

  private <E extends IOException> E refuse(E e) throws IOException {
    refusal.refused();
    return e;
  }

  /** Reads a payload of {@code length} bytes into a new array, growing it as bytes arrive. */
  public byte[] readArray(int length, long deadline) throws IOException {
    byte[] message;
    if (length <= TRUSTED_ALLOCATION || length <= in.remaining()) {
      message = new byte[length];
      fillTarget(ByteBuffer.wrap(message), deadline);
    } else {
      // Never allocate from an unchecked header: grow as the peer proves the length.
      message = new byte[TRUSTED_ALLOCATION];
      int filled = 0;
      while (true) {
        fillTarget(ByteBuffer.wrap(message, filled, message.length - filled), deadline);
        filled = message.length;
        if (filled == length) break;
        message = Arrays.copyOf(message, (int) Math.min(length, 2L * filled));
      }
    }
    midFrame = false;
    return message;
  }

  /** Reads a payload of exactly {@code target.remaining()} bytes into {@code target}. */
  public void readInto(ByteBuffer target, long deadline) throws IOException {
    fillTarget(target, deadline);
    midFrame = false;
  }

  /**
   * A read-only view of the next {@code length} payload bytes: in the read-ahead buffer when they
   * fit (valid until the next read), else in an array of their own. Consumed either way.
   */
  public ByteBuffer readView(int length, long deadline) throws IOException {
    if (length > in.capacity()) return ByteBuffer.wrap(readArray(length, deadline)).asReadOnlyBuffer();
    fill(length, deadline);
    ByteBuffer view = in.slice().limit(length).asReadOnlyBuffer();
    in.position(in.position() + length);
    midFrame = false;
    return view;
  }

  /**
   * Writes a payload of {@code length} bytes to {@code sink} as it arrives. If the sink fails, the
   * rest of the payload is read and dropped so that the stream stays in step, and the sink's
   * exception is thrown.
   */
  public void transferTo(WritableByteChannel sink, long length, long deadline) throws IOException {
    long left = length;
    while (left > 0) {
      if (!in.hasRemaining()) fillSome(deadline);
      int chunk = (int) Math.min(left, in.remaining());
      ByteBuffer slice = in.slice().limit(chunk);
      in.position(in.position() + chunk);
      left -= chunk;
      try {
        while (slice.hasRemaining()) sink.write(slice);
      } catch (IOException | RuntimeException e) {
        skip(left, deadline, e);
        throw e;
      }
    }
    midFrame = false;
  }

  /** Drops the next {@code left} payload bytes; failing that is added to {@code cause}. */
  private void skip(long left, long deadline, Exception cause) {
    try {
      while (left > 0) {
        if (!in.hasRemaining()) fillSome(deadline);
        int n = (int) Math.min(left, in.remaining());
        in.position(in.position() + n);
        left -= n;
      }
      midFrame = false;
    } catch (IOException e) {
      cause.addSuppressed(e); // still mid-frame unless the stream ended: the owner closes
    }
  }

  /** Makes a byte available for a raw read outside framing; false at a clean end of stream. */
  public boolean awaitByte(long deadline) throws IOException {
    return fillOrEnd(1, deadline);
  }

  /** Takes one buffered byte; call after {@link #awaitByte} returned true. */
  public byte takeByte() {
    return in.get();
  }

  private void fillTarget(ByteBuffer target, long deadline) throws IOException {
    while (target.hasRemaining()) {
      if (in.hasRemaining()) {
        int n = Math.min(in.remaining(), target.remaining());
        int oldLimit = in.limit();
        in.limit(in.position() + n);
        target.put(in);
        in.limit(oldLimit);
      } else if (target.remaining() >= in.capacity()) {
        // Large rest: read straight into the caller's memory, skipping a copy.
        if (transport.readLarge(target, deadline) < 0) throw truncated();
      } else {
        fillSome(deadline);
      }
    }
  }

  /** Reads at least one more byte into the (empty) buffer; the end of the stream is inside a frame. */
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

  /** Makes at least {@code count} bytes available; the end of the stream is inside a frame. */
  private void fill(int count, long deadline) throws IOException {
    if (!fillOrEnd(count, deadline) || in.remaining() < count) throw truncated();
  }

  /**
   * Makes at least {@code count} bytes available. Returns false at a clean end of the stream
   * (nothing buffered); throws if the stream ends with some but fewer bytes.
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
        n = spinNanos > 0 ? transport.spinRead(in, spinNanos, deadline) : 0;
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
   * Grows the buffer once a read filled it: the peer sends faster than one small buffer drains,
   * and batching reads is what makes small messages cheap. Call in read mode.
   */
  private void growIfFilled() {
    if (in.limit() < in.capacity() || in.capacity() >= BUFFER_SIZE) return;
    ByteBuffer bigger = ByteBuffer.allocateDirect(BUFFER_SIZE);
    bigger.put(in).flip();
    in = bigger;
  }

  /** The stream ended inside a frame: what is buffered of it is dropped, and the reader is at the end. */
  private FramingException truncated() {
    endOfStream = true;
    midFrame = false;
    in.position(in.limit());
    partial = null;
    streamLength = -1;
    skipLeft = 0;
    return new FramingException("got end of file during message");
  }

  // ---------------------------------------------------------------------------------------------
  // Event loop reads: non-blocking, one loop thread, through the loop's scratch buffer

  /** Reads through a loop's {@code scratch} until {@link #returnScratch()}: no buffer of its own. */
  public void borrowScratch(ByteBuffer scratch) {
    scratch.clear();
    if (in != null) scratch.put(in);
    in = scratch.flip();
  }

  /** Keeps what is left over in an exact-size heap buffer (or none) and lets the scratch go. */
  public void returnScratch() {
    in = in.hasRemaining() ? ByteBuffer.allocate(in.remaining()).put(in).flip() : null;
  }

  /**
   * The next whole message of at most {@code limit} bytes, or null if it has not all arrived;
   * reads what the socket gives without waiting. {@code selected}: the selector just reported the
   * socket, so that a first read of nothing is the end of the stream; {@code hungUp}: any read of
   * nothing is.
   */
  public byte[] assemble(long limit, boolean selected, boolean hungUp) throws IOException {
    if (streamLength >= 0) abandonStream(); // the streaming receive that began it is gone
    boolean first = selected;
    while (true) {
      discardSkipped();
      if (partial == null && skipLeft == 0 && headerBuffered()) startPartial(limit);
      if (partial != null && takeIntoPartial()) {
        byte[] message = partial;
        partial = null;
        return message;
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

  private void startPartial(long limit) throws IOException {
    long length = readHeader(limit, Deadlines.NONE); // buffered: does not read
    midFrame = false; // the loop keeps its place in partial, across calls
    if (length > MAX_ARRAY) throw refuse(new MessageTooLargeException(length, MAX_ARRAY));
    partialLength = (int) length;
    partial = new byte[Math.min(partialLength, Math.max(TRUSTED_ALLOCATION, in.remaining()))];
    partialFilled = 0;
  }

  /** Moves buffered bytes into the message being assembled; true once it is whole. */
  private boolean takeIntoPartial() {
    int n = Math.min(in.remaining(), partialLength - partialFilled);
    if (partialFilled + n > partial.length) {
      partial = Arrays.copyOf(partial, (int) Math.min(partialLength,
          Math.max(partialFilled + n, 2L * partial.length)));
    }
    in.get(partial, partialFilled, n);
    partialFilled += n;
    return partialFilled == partialLength;
  }

  /**
   * Moves the next message, of at most {@code limit} bytes, to {@code sink} as its bytes arrive:
   * its length once all of it was written, or -1 if more is to come. If the sink fails, the rest
   * of the message will be skipped. Otherwise as {@link #assemble}.
   */
  public long transfer(long limit, WritableByteChannel sink, boolean selected, boolean hungUp)
      throws IOException {
    boolean first = selected;
    long moved = 0;
    while (true) {
      discardSkipped();
      if (streamLength < 0 && skipLeft == 0) startStream(limit, sink);
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

  private void startStream(long limit, WritableByteChannel sink) throws IOException {
    if (partial != null) {
      // An array receive began this message and was cancelled: the sink gets it from the start.
      streamLength = partialLength;
      streamLeft = partialLength - partialFilled;
      ByteBuffer started = ByteBuffer.wrap(partial, 0, partialFilled);
      partial = null;
      writeToSink(sink, started);
    } else if (headerBuffered()) {
      streamLength = readHeader(limit, Deadlines.NONE); // buffered: does not read
      midFrame = false; // the loop keeps its place in streamLeft, across calls
      streamLeft = streamLength;
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
      abandonStream();
      throw e;
    }
  }

  /** The receive streaming a message with {@link #transfer} is gone: the rest will be skipped. */
  public void abandonStream() {
    if (streamLength < 0) return;
    skipLeft += streamLeft;
    streamLength = -1;
    streamLeft = 0;
  }

  /** Whether a non-blocking read that returned {@code n} found the end of the stream. */
  private boolean atEnd(int n, boolean selected, boolean hungUp) {
    return n < 0 || (n == 0 && (selected || hungUp) && transport.emptyReadWhenReadableIsEnd());
  }

  /** Drops buffered bytes of an abandoned message. */
  private void discardSkipped() {
    int n = (int) Math.min(skipLeft, in.remaining());
    in.position(in.position() + n);
    skipLeft -= n;
  }

  private boolean headerBuffered() {
    int available = in.remaining();
    if (available < Frames.SHORT_HEADER) return false;
    return in.getInt(in.position()) != Frames.LONG_LENGTH_MARKER
        || available >= Frames.SHORT_HEADER + Frames.LONG_LENGTH;
  }

  /** Reads what the socket has now behind the unread bytes: a count, 0 for nothing, or -1. */
  private int readNowIntoBuffer() throws IOException {
    in.compact();
    try {
      return transport.readNow(in);
    } finally {
      in.flip();
    }
  }
}
