package dev.ferry.internal.async;

import dev.ferry.async.AsyncSender;
import dev.ferry.internal.async.OutgoingFrame.PayloadBody;
import dev.ferry.internal.async.OutgoingFrame.PayloadSource;
import dev.ferry.internal.connection.AsyncPort;
import dev.ferry.internal.events.FerryEvents;
import dev.ferry.internal.framing.Frames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection's asynchronous sends: the bounded queue, the frames waiting for room, coalescing
 * of small frames into the loop's batch buffer, and the hand-off of the connection's send lock
 * between the loop and blocking senders. The counters are shared with callers' threads; everything
 * else belongs to the loop thread.
 *
 * <p>The loop holds the send lock from the first byte of a message to its last, and releases it
 * between messages, so that blocking senders get their turn and every message goes out whole.
 */
public final class SendQueue {

  /** A queued message: a frame, a batch of them, or a send still waiting for room. */
  private static final class Send {
    final SendFuture future = new SendFuture();
    ByteBuffer frame; // null while deferred; then the piece being written
    OutgoingFrame.Body body; // the rest of a large message, or null
    OutgoingFrame.Source source;
    long queued; // bytes counted in queuedBytes
    /** For a batch: the bytes of its members' frames, headers included. */
    long batchBytes;
    boolean started;
    /** Whether the socket was full while this was written (a MessageSent event tells). */
    boolean waitedForRoom;
    /** When the loop began it, if a MessageSent event may record it; else 0. */
    long startNanos;
    /** Why making the frame of a deferred send failed; it fails when it reaches the head. */
    Exception failure;
    /** For a batch of coalesced small frames: the futures of the sends it holds, in order. */
    List<SendFuture> members;

    void complete() {
      if (members == null) {
        future.succeed();
      } else {
        for (SendFuture f : members) f.succeed();
      }
    }

    void fail(Throwable e) {
      if (members == null) {
        future.fail(e);
      } else {
        for (SendFuture f : members) f.fail(e);
      }
    }
  }

  /** What one write did for the message at the head. */
  private enum Progress {
    /** The whole message has left. */
    WRITTEN,
    /** A further piece of the message is ready to write now. */
    MORE,
    /** Nothing more can be written now: a retry or the socket's readiness resumes the flush. */
    STOPPED
  }

  private final AsyncEndpoint endpoint;
  private final AsyncPort port;
  private final EventLoop loop;
  private final long limit;

  private final AtomicLong queuedBytes = new AtomicLong();
  /** Sends waiting for room, not yet encoded: while any wait, later sends wait behind them. */
  private final AtomicInteger deferred = new AtomicInteger();

  // Loop thread only.
  private final ArrayDeque<Send> sends = new ArrayDeque<>();
  private boolean holdingSendLock;
  private boolean wantWrite;
  private boolean retryScheduled;
  private boolean flushScheduled;
  private IOException sendFailure;
  /**
   * Writes that took bytes (or flushed, given nothing new), read by tests after a send's future
   * completed: a look at a full socket or ring that took nothing is no write.
   */
  private long writeCalls;

  /** The flush at the end of a round; one object for all rounds. */
  private final Runnable scheduledFlush = () -> {
    flushScheduled = false;
    flush();
  };

  SendQueue(AsyncEndpoint endpoint, AsyncPort port, EventLoop loop, long limit) {
    this.endpoint = endpoint;
    this.port = port;
    this.loop = loop;
    this.limit = limit;
    port.reportQueuedBytes(queuedBytes::get);
  }

  /**
   * How many writes {@code end} (an {@link AsyncSender} or {@code AsyncConnection} of Ferry's) has
   * made so far: for tests that check how sends were batched. Exact once the futures of the sends
   * in question have completed.
   */
  public static long writeCalls(AsyncSender end) {
    return AsyncViews.endpointOf(end).sendQueue().writeCalls;
  }

  /** How many sends of {@code end} wait for room in its queue, not yet framed; for tests. */
  public static int deferredSends(AsyncSender end) {
    return AsyncViews.endpointOf(end).sendQueue().deferred.get();
  }

  long queuedBytes() {
    return queuedBytes.get();
  }

  /** Loop thread: whether a message waits for the socket to take more. */
  boolean wantsWrite() {
    return wantWrite;
  }

  // ---------------------------------------------------------------------------------------------
  // Any thread: queueing

  /**
   * Queues a message of {@code length} bytes (-1: not known before encoding) that {@code source}
   * frames: at once while the queue has room, else when it reaches the head.
   */
  CompletableFuture<Void> send(long length, OutgoingFrame.Source source) {
    Send s = new Send();
    if (endpoint.isClosed() || port.isClosed()) {
      s.future.fail(AsyncEndpoint.closedException());
      return s.future;
    }
    if (!port.isWritable()) {
      s.future.fail(new IllegalStateException("connection is read-only"));
      return s.future;
    }
    if (length > port.maxSendSize()) return failInTurn(s, port.tooLongToSend(length));
    if (deferred.get() == 0 && queuedBytes.get() < limit) {
      OutgoingFrame frame;
      try {
        frame = source.frame();
      } catch (IOException | RuntimeException e) {
        return failInTurn(s, e);
      }
      take(s, frame);
    } else {
      // Full: keep a reference, not a copy, until the queue has room.
      s.source = source;
      deferred.incrementAndGet();
    }
    return handOver(s);
  }

  /**
   * Fails {@code s} after the sends queued before it, so that futures complete in call order: at
   * the head of the queue, as a send that waited and could not be made.
   */
  private CompletableFuture<Void> failInTurn(Send s, Exception e) {
    s.failure = e;
    deferred.incrementAndGet();
    return handOver(s);
  }

  private void take(Send s, OutgoingFrame frame) {
    s.frame = frame.head();
    s.body = frame.body();
    s.queued = frame.size();
    queuedBytes.addAndGet(s.queued);
  }

  /** Queues {@code s} on the loop thread. */
  private CompletableFuture<Void> handOver(Send s) {
    if (loop.inLoop()) {
      enqueue(s);
    } else {
      loop.execute(() -> enqueue(s));
    }
    return s.future;
  }

  private void enqueue(Send s) {
    if (endpoint.isClosed() || sendFailure != null) {
      forget(s);
      s.future.fail(s.failure != null ? s.failure
          : endpoint.isClosed() ? AsyncEndpoint.closedException() : sendFailure);
      return;
    }
    sends.add(s);
    if (sends.size() == 1 && !flushScheduled) {
      // Not at once: the sends other threads queued in this round then leave in one write.
      flushScheduled = true;
      loop.atEndOfRound(scheduledFlush);
    }
  }

  private void forget(Send s) {
    if (s.frame == null) {
      deferred.decrementAndGet();
    } else {
      queuedBytes.addAndGet(-s.queued);
    }
    s.frame = null;
    s.body = null;
    s.queued = 0;
    s.source = null;
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread: writing

  /**
   * Writes queued messages until the socket is full or the queue empty: drop what cannot be sent,
   * take the send lock, start the message at the head (coalescing small ones), write, finish.
   */
  void flush() {
    while (!sends.isEmpty() && !endpoint.isClosed()) {
      Send s = sends.peek();
      if (dropUnsendable(s)) continue;
      if (!lockSend()) return;
      if (!s.started && (s = start(s)) == null) continue;
      switch (write(s)) {
        case WRITTEN -> finish(s);
        case MORE -> { }
        case STOPPED -> {
          return;
        }
      }
    }
    releaseSendLock(); // no message is half written here
    wantWrite = false;
    endpoint.updateInterest();
  }

  /** Flushes if a message waits for the socket: the peer hung up, so the write fails or retries. */
  void flushIfWaiting() {
    if (wantWrite) flush();
  }

  /**
   * Drops the head if it cannot be sent: withdrawn before any byte left, or a send that waited
   * for room and whose frame cannot be made (everything ahead of it has been written, so the
   * queue has room for it now).
   */
  private boolean dropUnsendable(Send s) {
    if (!s.started && s.future.isDone()) {
      sends.poll();
      forget(s);
      return true;
    }
    if (s.frame == null && !materialize(s)) {
      sends.poll();
      deferred.decrementAndGet();
      s.source = null;
      s.future.fail(s.failure);
      return true;
    }
    return false;
  }

  /**
   * Takes the send lock before anything is gathered in the loop's shared batch buffer: a batch
   * must be written before the flush returns, or another connection of the loop overwrites it.
   * False if a blocking sender holds it: its message goes out whole first, and the flush retries.
   */
  private boolean lockSend() {
    if (holdingSendLock) return true;
    if (!port.tryLockSend()) {
      retryLater();
      return false;
    }
    holdingSendLock = true;
    return true;
  }

  /**
   * Commits to writing the message at the head, which from here goes out whole; returns what to
   * write (a batch of it and the small frames behind it), or null if the caller withdrew it.
   */
  private Send start(Send s) {
    if (!s.future.start()) {
      sends.poll();
      forget(s);
      releaseSendLock(); // nothing of it left: blocking senders may go first
      return null;
    }
    if (s.body == null && s.frame.remaining() < OutgoingFrame.SMALL_FRAME && sends.size() > 1) {
      s = coalesce();
    } else if (s.body != null) {
      port.prepareWrite(s.queued);
    }
    if (FerryEvents.messageSentEnabled()) s.startNanos = System.nanoTime();
    return s;
  }

  /** Writes what the socket takes of {@code s} now. */
  private Progress write(Send s) {
    if (s.body instanceof PayloadBody payload && payload.needsHead()) {
      s.frame = payload.head(loop.batchBuffer());
    }
    try {
      EventLoop.clearInterrupt();
      boolean flushOnly = !s.frame.hasRemaining();
      if (port.writeNow(s.frame) > 0 || flushOnly) writeCalls++;
    } catch (IOException | RuntimeException e) {
      failAfterWrite(e);
      return Progress.STOPPED;
    }
    s.started = true;
    // A TLS record may still wait to leave: the send is done only when it has.
    if (s.frame.hasRemaining() || port.hasPendingOutput()) {
      awaitRoom(s);
      return Progress.STOPPED;
    }
    return s.body == null ? Progress.WRITTEN : nextPiece(s);
  }

  /**
   * The socket took part of {@code s}: wait until it takes more. The loop's batch buffer serves
   * the next connection too, so no send keeps it past this return, not even emptied (a TLS record
   * still waiting to leave), or a later write would send what the next connection put there: the
   * rest moves out, or a payload goes on from the caller's buffer.
   */
  private void awaitRoom(Send s) {
    if (s.frame == loop.batchBuffer()) {
      if (s.body instanceof PayloadBody payload) {
        s.frame = payload.resume(s.frame);
      } else {
        s.frame = ByteBuffer.allocate(s.frame.remaining()).put(s.frame).flip();
      }
    }
    s.waitedForRoom = true;
    wantWrite = true;
    if (endpoint.hungUp()) retryLater(); else endpoint.updateInterest();
  }

  /** Moves on to the next piece of a large message. */
  private Progress nextPiece(Send s) {
    ByteBuffer next;
    try {
      next = s.body.next();
    } catch (IOException | RuntimeException e) {
      // Part of the message has left: the peer was promised bytes that will never come.
      sends.poll();
      forget(s);
      releaseSendLock();
      endpoint.closeQuietly();
      s.fail(e);
      return Progress.STOPPED;
    }
    if (next == null) return Progress.WRITTEN;
    s.frame = next;
    if (next.hasRemaining()) return Progress.MORE;
    // The source has nothing yet: ask again soon, not whenever the socket is writable.
    wantWrite = false;
    endpoint.updateInterest();
    retryLater();
    return Progress.STOPPED;
  }

  private void finish(Send s) {
    sends.poll();
    // Counted while the send lock is held: blocking senders count under it too.
    int messages = s.members == null ? 1 : s.members.size();
    long bytes = s.members == null ? Frames.payloadSize(s.queued)
        : s.batchBytes - (long) Frames.SHORT_HEADER * messages;
    port.countSent(messages, bytes);
    forget(s);
    releaseSendLock(); // between messages, blocking senders get their turn
    if (s.startNanos != 0) {
      FerryEvents.messageSent(port.description(), bytes, s.startNanos, s.waitedForRoom, true);
    }
    s.complete();
  }

  /** A write failed: the connection's send side is broken, and every queued send fails. */
  private void failAfterWrite(Exception e) {
    releaseSendLock();
    sendFailure = e instanceof IOException io ? io : new IOException(e);
    failSends(sendFailure);
    endpoint.updateInterest();
  }

  /**
   * Makes the frame of a send that waited for room in the queue; false if that failed, with the
   * reason in {@link Send#failure} (the send stays deferred, for its turn at the head).
   */
  private boolean materialize(Send s) {
    if (s.failure != null) return false;
    OutgoingFrame frame;
    try {
      frame = s.source.frame();
    } catch (IOException | RuntimeException e) {
      s.failure = e;
      return false;
    }
    s.source = null;
    take(s, frame);
    deferred.decrementAndGet();
    return true;
  }

  /**
   * Replaces the small frames at the head of the queue with one batch holding copies of them all,
   * so that they leave in one write (decision 5: syscalls per message).
   */
  private Send coalesce() {
    int count = batchable();
    if (count < 2) return sends.peek();
    Send batch = new Send();
    // Gathered in the loop's direct buffer: no allocation, and the write needs no copy to a
    // temporary direct buffer. If the socket takes only part, the rest moves out (awaitRoom).
    batch.frame = loop.batchBuffer().clear();
    batch.members = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Send m = sends.poll();
      if (!m.future.start()) { // withdrawn since it was counted (the head is started already)
        forget(m);
        continue;
      }
      if (m.frame != null) {
        batch.frame.put(m.frame);
        batch.queued += m.queued;
      } else {
        ((PayloadSource) m.source).putInto(batch.frame);
        m.source = null;
        deferred.decrementAndGet();
      }
      batch.members.add(m.future);
    }
    batch.frame.flip();
    batch.batchBytes = batch.frame.remaining();
    batch.started = true; // its members can no longer be withdrawn
    sends.addFirst(batch);
    return batch;
  }

  /**
   * How many sends at the head fit in one batch. Sends that waited for room are made now and
   * join; a cancelled send, or one whose frame could not be made, ends the batch.
   */
  private int batchable() {
    int total = 0;
    int count = 0;
    for (Iterator<Send> i = sends.iterator(); i.hasNext(); ) {
      Send n = i.next();
      if (n.future.isDone()) break;
      int size;
      if (n.frame == null) {
        // A send that waited for room joins too: it would be next anyway. With a full queue (a
        // sender faster than the socket) every send waits, so this is the common case then.
        size = n.source instanceof PayloadSource p ? p.smallFrameSize() : -1;
        if (size < 0 && !materialize(n)) break;
      } else {
        size = -1;
      }
      if (size < 0) {
        if (n.body != null || n.started || n.members != null) break;
        size = n.frame.remaining();
      }
      if (size >= OutgoingFrame.SMALL_FRAME || total + size > OutgoingFrame.BATCH_BYTES) break;
      total += size;
      count++;
    }
    return count;
  }

  private void releaseSendLock() {
    if (holdingSendLock) {
      holdingSendLock = false;
      port.unlockSend();
    }
  }

  private void retryLater() {
    if (retryScheduled) return;
    retryScheduled = true;
    loop.schedule(1_000_000, () -> {
      retryScheduled = false;
      flush();
    });
  }

  private void failSends(IOException e) {
    Send s;
    while ((s = sends.poll()) != null) {
      forget(s);
      s.fail(s.failure != null ? s.failure : e); // one refused at once keeps its own reason
    }
  }

  /** Loop thread: the connection is closed; release the send lock and fail every send. */
  void failAll(IOException e) {
    releaseSendLock();
    failSends(e);
  }
}
