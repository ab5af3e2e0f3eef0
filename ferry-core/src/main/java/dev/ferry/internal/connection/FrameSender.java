package dev.ferry.internal.connection;

import dev.ferry.ConnectionClosedException;
import dev.ferry.internal.events.FerryEvents;
import dev.ferry.internal.framing.FrameReader;
import dev.ferry.internal.framing.Frames;
import dev.ferry.internal.transport.Transport;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The send side of a {@link FramedConnection}: its send lock, its send buffer and the writing of
 * whole frames.
 *
 * <p>The send lock is shared by blocking senders and the connection's event loop, so that
 * messages from both go out whole and one after the other. A blocking sender waits for it
 * (interruptibly); the loop only tries it ({@link #tryLockForLoop()}) and, while a blocking
 * sender holds it, tries again later. Once the loop has begun a message it keeps the lock across
 * its calls until that message is out whole; a blocking send from the loop's own thread in that
 * window (a stage of a future completed on the loop) would land inside the loop's message, and
 * could not wait for the loop either, so it is refused with {@link IllegalStateException}.
 *
 * <p>A frame is whole or the connection closes: a write that fails after some bytes of a frame
 * left (an interrupt, a reset), or a source that fails after part of its message was sent, closes
 * the connection, since the peer would read the next frame as the rest of this one.
 */
final class FrameSender {
  private final ReentrantLock lock = new ReentrantLock();
  private final Transport transport;
  private final String description;
  private final boolean writable;

  /** Closes the connection after a frame was cut short, without throwing. */
  private final Runnable closeCutFrame;

  /** Counted under {@link #lock}. */
  private final MessageCounters counters;

  /** Guarded by {@link #lock}: small frames are built here and leave in one write. */
  private ByteBuffer out;

  FrameSender(Transport transport, String description, boolean writable, Runnable closeCutFrame,
      MessageCounters counters) {
    this.transport = transport;
    this.counters = counters;
    this.description = description;
    this.writable = writable;
    this.closeCutFrame = closeCutFrame;
  }

  boolean writable() {
    return writable;
  }

  void sendBytes(ByteBuffer buffer) throws IOException {
    int length = buffer.remaining();
    long start = FerryEvents.messageSentEnabled() ? System.nanoTime() : 0;
    lockForSend();
    long waits = start == 0 ? 0 : transport.writeWaits(); // writing thread's, read under the lock
    try {
      ensureBuffer(Frames.SHORT_HEADER + (long) length);
      out.clear();
      out.putInt(length);
      if (length <= out.remaining()) {
        out.put(buffer);
        out.flip();
        writeFrame(out, null);
      } else {
        transport.prepareWrite(length);
        out.flip();
        writeFrame(out, buffer);
      }
      counters.sent(1, length);
      waits = start == 0 ? 0 : transport.writeWaits() - waits;
    } finally {
      lock.unlock();
    }
    if (start != 0) FerryEvents.messageSent(description, length, start, waits > 0, false);
  }

  void sendFrom(ReadableByteChannel source, long size) throws IOException {
    long start = FerryEvents.messageSentEnabled() ? System.nanoTime() : 0;
    lockForSend();
    long waits = start == 0 ? 0 : transport.writeWaits(); // writing thread's, read under the lock
    boolean sentSome = false;
    boolean whole = false;
    try {
      ensureBuffer(Frames.SHORT_HEADER + Frames.LONG_LENGTH + size);
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
            closeCutFrame.run();
            throw new EOFException("source ended before " + size + " bytes");
          }
        }
        left -= room;
        out.flip();
        writeFrame(out, null);
        sentSome = true;
        if (left == 0) break;
        out.clear();
      }
      whole = true;
      counters.sent(1, size);
      waits = start == 0 ? 0 : transport.writeWaits() - waits;
    } finally {
      if (sentSome && !whole) closeCutFrame.run();
      lock.unlock();
    }
    if (start != 0) FerryEvents.messageSent(description, size, start, waits > 0, false);
  }

  /** Sends {@code frame}, a whole frame from position 0 (header included). */
  void sendFrame(ByteBuffer frame) throws IOException {
    long size = Frames.payloadSize(frame.remaining());
    long start = FerryEvents.messageSentEnabled() ? System.nanoTime() : 0;
    lockForSend();
    long waits = start == 0 ? 0 : transport.writeWaits(); // writing thread's, read under the lock
    try {
      transport.prepareWrite(frame.remaining());
      writeFrame(frame, null);
      counters.sent(1, size);
      waits = start == 0 ? 0 : transport.writeWaits() - waits;
    } finally {
      lock.unlock();
    }
    if (start != 0) FerryEvents.messageSent(description, size, start, waits > 0, false);
  }

  /** Counts messages the event loop sent while it held the lock. */
  void countSent(int messages, long bytes) {
    counters.sent(messages, bytes);
  }

  /** Sends {@code bytes} (a frame, or a raw byte outside framing) with {@code fds} attached. */
  void sendWithDescriptors(ByteBuffer bytes, FileDescriptor[] fds) throws IOException {
    lockForSend();
    try {
      transport.writeFully(bytes, fds);
      // A frame is counted; a raw byte outside framing (recv_handle's) is not a message.
      if (bytes.limit() >= Frames.SHORT_HEADER) counters.sent(1, Frames.payloadSize(bytes.limit()));
    } catch (Throwable e) {
      if (bytes.position() > 0) closeCutFrame.run();
      throw e;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writes {@code head} (from position 0), then {@code body} if there is one; closes the
   * connection if the write fails after some of it left.
   */
  private void writeFrame(ByteBuffer head, ByteBuffer body) throws IOException {
    try {
      if (body == null) transport.writeFully(head); else transport.writeFully(head, body);
    } catch (Throwable e) {
      if (head.position() > 0) closeCutFrame.run();
      throw e;
    }
  }

  private void lockForSend() throws IOException {
    checkWritable();
    if (lock.isHeldByCurrentThread()) {
      throw new IllegalStateException("a blocking send on the event loop's thread while it is"
          + " writing a message on this connection: use sendAsync there");
    }
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to send on " + description);
    }
    try {
      checkWritable();
    } catch (IOException | RuntimeException e) {
      lock.unlock();
      throw e;
    }
  }

  void checkWritable() throws IOException {
    if (transport.isClosed()) throw new ConnectionClosedException("connection is closed");
    if (!writable) throw new IllegalStateException("connection is read-only");
  }

  /** A send buffer for a frame of {@code frameSize} bytes: the small one unless it is too small. */
  private void ensureBuffer(long frameSize) {
    int wanted = frameSize > FrameReader.INITIAL_BUFFER_SIZE
        ? FrameReader.BUFFER_SIZE : FrameReader.INITIAL_BUFFER_SIZE;
    if (out == null || out.capacity() < wanted) out = ByteBuffer.allocateDirect(wanted);
  }

  /** Takes the lock if no one holds it: the event loop's way in. */
  boolean tryLockForLoop() {
    return lock.tryLock();
  }

  void unlock() {
    lock.unlock();
  }

  /** Drops the send buffer if no sender holds it; the next blocking send allocates it again. */
  void trimBuffer() {
    if (!lock.tryLock()) return;
    try {
      out = null;
    } finally {
      lock.unlock();
    }
  }
}
