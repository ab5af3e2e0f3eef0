package dev.ferry.internal.connection;

import dev.ferry.BufferTooShortException;
import dev.ferry.ConnectionClosedException;
import dev.ferry.codec.Codec;
import dev.ferry.internal.events.FerryEvents;
import dev.ferry.internal.framing.FrameReader;
import dev.ferry.internal.connection.DescriptorChannel.Received;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.Transport;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The receive side of a {@link FramedConnection}: its read lock, its {@link FrameReader}, whether
 * it may still be read, and the hooks of the wait sets that hold it. One reader at a time: blocking
 * receives and polls wait for the read lock; wait sets and event loops only try it, or hold it for
 * one non-blocking step.
 *
 * <p>A frame is whole or the connection closes: a receive that stops between a header and the end
 * of its payload (an interrupt, a timeout, a failing sink whose message could not be skipped)
 * closes the connection before it releases the lock, so that no later receive reads payload bytes
 * as a header. A cut frame (the peer's end of stream inside a frame) leaves the end readable at
 * the end of its stream; a refused header (malformed, or over the limit) leaves the rest of the
 * stream unreadable (PROTOCOL.md 1.4): a duplex end becomes write-only, a read end closes.
 */
final class FrameReceiver {
  private final Transport transport;
  private final String description;

  /** A one-way pipe's read end: closed, not made write-only, by a refused header. */
  private final boolean readOnlyEnd;

  private final ReentrantLock lock = new ReentrantLock();

  /** Guarded by {@link #lock}. */
  private final FrameReader reader;

  private final WaitWatchers watchers = new WaitWatchers();

  /** Counted under {@link #lock}. */
  private final MessageCounters counters;

  /** Told why, once this side closed the transport itself: the close is recorded then. */
  private final Consumer<String> closedHere;

  /** Moves only towards false, under the lock. */
  private volatile boolean readable;

  /** Set once, under the lock, when an event loop takes over receiving; blocking receives refuse. */
  private volatile boolean asyncReceiver;

  /** Set once, under the lock, when an event loop takes over sending only. */
  private volatile boolean asyncSender;

  FrameReceiver(Transport transport, String description, boolean readable, boolean writable,
      long spinNanos, MessageCounters counters, Consumer<String> closedHere) {
    this.transport = transport;
    this.closedHere = closedHere;
    this.counters = counters;
    this.description = description;
    this.readable = readable;
    this.readOnlyEnd = readable && !writable;
    this.reader = new FrameReader(transport, spinNanos, this::refuseReads);
  }

  private void refuseReads() throws IOException {
    readable = false;
    if (!readOnlyEnd) return;
    try {
      transport.close();
    } finally {
      closedHere.accept("a read end refused a header");
    }
  }

  boolean readable() {
    return readable;
  }

  boolean receivesAsynchronously() {
    return asyncReceiver;
  }

  WaitWatchers watchers() {
    return watchers;
  }

  // ---------------------------------------------------------------------------------------------
  // Blocking receives

  byte[] receiveBytes(long limit, long deadline) throws IOException {
    long start = FerryEvents.messageReceivedEnabled() ? System.nanoTime() : 0;
    byte[] message;
    lockForReceive();
    try {
      long length = reader.readHeader(Math.min(limit, FrameReader.MAX_ARRAY), deadline);
      message = reader.readArray((int) length, deadline);
      counters.received(length);
    } finally {
      unlockReceive();
    }
    if (start != 0) FerryEvents.messageReceived(description, message.length, start, false);
    return message;
  }

  int receiveBytesInto(ByteBuffer buffer, long limit) throws IOException {
    long start = FerryEvents.messageReceivedEnabled() ? System.nanoTime() : 0;
    int n;
    lockForReceive();
    try {
      long length = reader.readHeader(Math.min(limit, FrameReader.MAX_ARRAY), Deadlines.NONE);
      if (length > buffer.remaining()) {
        byte[] message = reader.readArray((int) length, Deadlines.NONE);
        counters.received(length);
        throw new BufferTooShortException(message, buffer.remaining());
      }
      n = (int) length;
      // Read into the caller's buffer through its own limit, not a slice: a slice per message
      // is garbage on the hot path. Position and limit are as before if the read fails.
      int position = buffer.position();
      int oldLimit = buffer.limit();
      buffer.limit(position + n);
      boolean done = false;
      try {
        reader.readInto(buffer, Deadlines.NONE);
        done = true;
      } finally {
        buffer.limit(oldLimit);
        if (!done) buffer.position(position);
      }
      counters.received(n);
    } finally {
      unlockReceive();
    }
    if (start != 0) FerryEvents.messageReceived(description, n, start, false);
    return n;
  }

  long receiveTo(WritableByteChannel sink, long limit) throws IOException {
    long start = FerryEvents.messageReceivedEnabled() ? System.nanoTime() : 0;
    long length;
    lockForReceive();
    try {
      length = reader.readHeader(limit, Deadlines.NONE);
      reader.transferTo(sink, length, Deadlines.NONE);
      counters.received(length);
    } finally {
      unlockReceive();
    }
    if (start != 0) FerryEvents.messageReceived(description, length, start, false);
    return length;
  }

  <T> T receive(Codec<T> codec, long limit) throws IOException {
    long start = FerryEvents.messageReceivedEnabled() ? System.nanoTime() : 0;
    long length;
    T value;
    lockForReceive();
    try {
      length = reader.readHeader(Math.min(limit, FrameReader.MAX_ARRAY), Deadlines.NONE);
      ByteBuffer view = reader.readView((int) length, Deadlines.NONE);
      counters.received(length); // consumed whether or not the codec likes it
      value = codec.decode(view);
    } finally {
      unlockReceive();
    }
    if (start != 0) FerryEvents.messageReceived(description, length, start, false);
    return value;
  }

  boolean poll(long deadline) throws IOException {
    checkReadable();
    try {
      long wait = Math.max(0, Deadlines.remaining(deadline));
      if (!lock.tryLock(wait, TimeUnit.NANOSECONDS)) return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while polling " + description);
    }
    try {
      checkReadable();
      return reader.poll(deadline);
    } finally {
      unlockReceive();
    }
  }

  byte[] receiveNow(int maxLength, boolean reportedReadable) throws IOException {
    lockForReceive();
    try {
      byte[] message = reader.receiveNow(maxLength, reportedReadable);
      if (message != null) counters.received(message.length);
      return message;
    } finally {
      unlockReceive();
    }
  }

  /**
   * As {@link #receiveNow(int, boolean)}, reading through the caller's {@code scratch} (the accept
   * loop's) instead of a buffer of this connection's own, so that a handshake leaves no direct
   * buffer behind: what is left over stays in an exact-size heap buffer.
   */
  byte[] receiveNow(int maxLength, boolean reportedReadable, ByteBuffer scratch)
      throws IOException {
    lockChecked();
    reader.borrowScratch(scratch);
    try {
      return reader.receiveNow(maxLength, reportedReadable);
    } finally {
      reader.returnScratch();
      unlockReceive();
    }
  }

  /** One framed message and the descriptors that came with its bytes. */
  Received receiveWithDescriptors(long limit) throws IOException {
    lockForReceive();
    try {
      long start = reader.streamPosition();
      long length = reader.readHeader(Math.min(limit, FrameReader.MAX_ARRAY), Deadlines.NONE);
      byte[] payload = reader.readArray((int) length, Deadlines.NONE);
      counters.received(length);
      return new Received(payload, transport.takeDescriptors(start, reader.streamPosition()));
    } finally {
      unlockReceive();
    }
  }

  /** One raw byte outside framing and its descriptors: CPython's {@code recv_handle}. */
  Received receiveByteWithDescriptors() throws IOException {
    lockForReceive();
    try {
      if (!reader.awaitByte(Deadlines.NONE)) throw new EOFException("end of stream");
      long start = reader.streamPosition();
      transport.discardDescriptorsBefore(start);
      byte value = reader.takeByte();
      return new Received(new byte[] {value}, transport.takeDescriptors(start, start + 1));
    } finally {
      unlockReceive();
    }
  }

  private void lockForReceive() throws IOException {
    lockChecked();
    reader.ensureBuffer();
  }

  /** Takes the lock, checking the state before waiting for it and again once it is held. */
  private void lockChecked() throws IOException {
    checkReadable();
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to receive on " + description);
    }
    try {
      checkReadable();
    } catch (IOException | RuntimeException e) {
      lock.unlock();
      throw e;
    }
  }

  /**
   * Releases the lock after a receive or poll; a receive that stopped inside a frame closes the
   * connection first. Then tells the wait sets holding this connection if bytes or the end of the
   * stream stay buffered (their selectors cannot see those), or that it closed.
   */
  private void unlockReceive() {
    boolean cut = reader.midFrame();
    if (cut) {
      closeTransport();
    } else if (transport.isClosed()) {
      // The transport closed itself (an interrupted read in the kernel closes a Unix socket, as
      // any InterruptibleChannel does): record it now, not when the user calls close(). Once only.
      closedHere.accept("a blocking receive was interrupted");
    }
    boolean wake = cut || !watchers.isEmpty() && (reader.hasBuffered() || transportHasInput());
    lock.unlock();
    if (wake) watchers.runAll();
  }

  private void closeTransport() {
    try {
      transport.close();
    } catch (IOException e) {
      // The socket is unusable either way; the failure that cut the frame is the one to report.
    }
    closedHere.accept("a receive stopped inside a frame");
  }

  /** Whether the transport holds input of its own (TLS plaintext already decrypted). */
  private boolean transportHasInput() {
    try {
      return transport.hasBufferedInput();
    } catch (IOException e) {
      return true; // a receive fails at once
    }
  }

  private void checkReadable() throws IOException {
    if (transport.isClosed()) throw new ConnectionClosedException("connection is closed");
    if (!readable) throw new IllegalStateException("connection is write-only");
    if (asyncReceiver) throw new IllegalStateException("connection receives asynchronously");
  }

  // ---------------------------------------------------------------------------------------------
  // Wait sets: looking at input without a receive

  /** See {@link FramedConnection#hasBufferedInput()}. */
  boolean hasBufferedInput() {
    if (!lock.tryLock()) return false; // a receiver is at work; the selector will tell
    try {
      if (reader.hasBuffered()) return true;
      return !asyncReceiver && transport.hasBufferedInput();
    } catch (IOException e) {
      return true; // a receive fails at once
    } finally {
      lock.unlock();
    }
  }

  /** See {@link FramedConnection#readAhead(long)}. */
  boolean readAhead(long readsWhenWatched) {
    if (!lock.tryLock()) return false;
    boolean arrived = false;
    try {
      if (!readable || transport.isClosed()) return true;
      if (asyncReceiver) return false;
      if (reader.hasBuffered()) return true; // the wait sets heard of it when it arrived
      arrived = reader.readAhead(transport.readCount() == readsWhenWatched);
      return arrived;
    } catch (IOException e) {
      return true; // a receive fails at once
    } finally {
      lock.unlock();
      // Other wait sets holding this connection cannot see on the socket what is now buffered.
      if (arrived) watchers.runAll();
    }
  }

  /** Whether a receive found the peer's end of stream; false while a receive holds the lock. */
  boolean peerEnded() {
    if (!lock.tryLock()) return false;
    try {
      return reader.reachedEndOfStream();
    } finally {
      lock.unlock();
    }
  }

  /** Drops the read-ahead buffer if it is empty and no receive holds it. */
  void trim() {
    if (!lock.tryLock()) return;
    try {
      reader.trim();
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Event loops: one non-blocking step at a time, through the loop's scratch buffer

  /** See {@link AsyncPort#claimAsync}. */
  void claimAsync(boolean receive) {
    if (!lock.tryLock()) throw new IllegalStateException("a blocking receive is in progress");
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
      lock.unlock();
    }
  }

  /** See {@link AsyncPort#receiveAvailable}. */
  byte[] receiveAvailable(long limit, boolean selected, boolean hungUp, ByteBuffer scratch)
      throws IOException {
    byte[] message;
    lockIntoScratch(scratch);
    try {
      message = reader.assemble(limit, selected, hungUp);
      if (message != null) counters.received(message.length);
    } finally {
      unlockFromScratch();
    }
    if (message != null && FerryEvents.messageReceivedEnabled()) {
      FerryEvents.messageReceived(description, message.length, System.nanoTime(), true);
    }
    return message;
  }

  /** See {@link AsyncPort#transferAvailable}. */
  long transferAvailable(long limit, WritableByteChannel sink, boolean selected, boolean hungUp,
      ByteBuffer scratch) throws IOException {
    long length;
    lockIntoScratch(scratch);
    try {
      length = reader.transfer(limit, sink, selected, hungUp);
      if (length >= 0) counters.received(length);
    } finally {
      unlockFromScratch();
    }
    if (length >= 0 && FerryEvents.messageReceivedEnabled()) {
      FerryEvents.messageReceived(description, length, System.nanoTime(), true);
    }
    return length;
  }

  /**
   * Takes the lock and lends the reader the loop's scratch buffer: an idle connection then holds
   * no receive buffer of its own. (Two calls, not one taking a lambda: this runs for every
   * readable event.)
   */
  private void lockIntoScratch(ByteBuffer scratch) throws IOException {
    lock.lock();
    try {
      if (transport.isClosed()) throw new ConnectionClosedException("connection is closed");
      if (!readable) throw new IllegalStateException("connection is write-only");
    } catch (IOException | RuntimeException e) {
      lock.unlock();
      throw e;
    }
    reader.borrowScratch(scratch);
  }

  private void unlockFromScratch() {
    try {
      reader.returnScratch();
    } finally {
      lock.unlock();
    }
  }

  /** See {@link AsyncPort#abandonStream}. */
  void abandonStream() {
    lock.lock();
    try {
      reader.abandonStream();
    } finally {
      lock.unlock();
    }
  }
}
