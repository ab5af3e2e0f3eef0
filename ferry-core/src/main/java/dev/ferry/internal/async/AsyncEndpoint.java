package dev.ferry.internal.async;

import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.Receiver;
import dev.ferry.Sender;
import dev.ferry.async.AsyncConnection;
import dev.ferry.async.AsyncReceiver;
import dev.ferry.async.AsyncSender;
import dev.ferry.codec.Codec;
import dev.ferry.internal.connection.AsyncPort;
import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.framing.Frames;
import dev.ferry.internal.framing.MessageOutput;
import java.io.EOFException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The implementation of {@link AsyncConnection}, and behind views of it, of {@link AsyncReceiver}
 * and {@link AsyncSender}. All state except the counters and the closed flag belongs to the loop
 * thread; other threads hand their requests to it with {@link EventLoop#execute}, which keeps
 * each thread's calls in order.
 */
public final class AsyncEndpoint implements AsyncConnection, EventLoop.Handler {
  private static final System.Logger LOG = System.getLogger(AsyncEndpoint.class.getName());

  /** What a wrapper takes over: both sides, or one. */
  public enum Role {
    CONNECTION,
    RECEIVER,
    SENDER
  }

  /** Turns a received payload into the future's value; may throw a CodecException. */
  private interface Decoder<T> {
    T decode(byte[] message) throws IOException;
  }

  private static class Receive<T> {
    final CompletableFuture<T> future = new CompletableFuture<>();
    final long limit;
    final Decoder<T> decoder;
    EventLoop.Timer timer;

    Receive(long limit, Decoder<T> decoder) {
      this.limit = limit;
      this.decoder = decoder;
    }
  }

  /**
   * A receive that streams its message to a sink instead of assembling an array. Its sink stops
   * taking bytes once the future is done (cancelled, timed out), so that the rest is skipped.
   */
  private static final class StreamReceive extends Receive<Long> {
    final WritableByteChannel sink;

    StreamReceive(long limit, WritableByteChannel target) {
      super(limit, null);
      this.sink = new WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) throws IOException {
          if (future.isDone()) throw new IOException("receive is over");
          return target.write(src);
        }

        @Override
        public boolean isOpen() {
          return target.isOpen();
        }

        @Override
        public void close() throws IOException {
          target.close();
        }
      };
    }
  }

  /**
   * A message ready to write: {@code head} (a whole frame, or only the header of a large one),
   * then what {@code body} yields, and the bytes it counts in the queue.
   */
  private record Frame(ByteBuffer head, Body body, long size) {
    static Frame whole(ByteBuffer frame) {
      return new Frame(frame, null, frame.remaining());
    }
  }

  /** The rest of a large message, piece by piece, on the loop thread. */
  private interface Body {
    /** The next piece (possibly empty: ask again later), or null once the message is complete. */
    ByteBuffer next() throws IOException;
  }

  /** Produces a frame late, when a full queue made the send wait. */
  private interface FrameSource {
    Frame frame() throws IOException;
  }

  /**
   * The caller's bytes: framed at once while the queue has room; else kept as they are, and a
   * small one is then copied straight into the batch that carries it (see {@link #coalesce}).
   */
  private record PayloadSource(ByteBuffer payload) implements FrameSource {
    @Override
    public Frame frame() {
      return frameOf(payload);
    }

    /** The frame's length if it can join a batch unmade, else -1. */
    int smallFrameSize() {
      int size = Frames.SHORT_HEADER + payload.remaining();
      return size < SMALL_FRAME ? size : -1;
    }
  }

  /**
   * A send's future. Cancelling it, or completing it from outside ({@code orTimeout},
   * {@code complete}), withdraws the send while the loop has not started it; once started the
   * message goes out whole, read from the caller's buffer, so those calls return false and the
   * future completes only when the message was handed over: until then the buffer is in use.
   */
  static final class SendFuture extends CompletableFuture<Void> {
    private static final int WAITING = 0;
    private static final int STARTED = 1;
    private static final int WITHDRAWN = 2;

    private static final VarHandle STATE;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(SendFuture.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    /** WAITING, STARTED or WITHDRAWN; changed through STATE (no AtomicInteger per send). */
    private volatile int state;

    /** Loop thread: commits to writing the send; false if the caller withdrew it first. */
    boolean start() {
      return STATE.compareAndSet(this, WAITING, STARTED) || state == STARTED;
    }

    private boolean withdraw() {
      return STATE.compareAndSet(this, WAITING, WITHDRAWN) || state == WITHDRAWN;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      return withdraw() && super.cancel(mayInterruptIfRunning);
    }

    @Override
    public boolean complete(Void value) {
      return withdraw() && super.complete(value);
    }

    @Override
    public boolean completeExceptionally(Throwable e) {
      return withdraw() && super.completeExceptionally(e);
    }

    @Override
    public CompletableFuture<Void> completeAsync(Supplier<? extends Void> supplier,
        Executor executor) {
      // The JDK's version completes through internals that bypass the two methods above.
      Objects.requireNonNull(supplier, "supplier");
      executor.execute(() -> {
        try {
          complete(supplier.get());
        } catch (RuntimeException | Error e) {
          completeExceptionally(e);
        }
      });
      return this;
    }

    /** Refused: it would end a send the loop may still be reading from the caller's buffer. */
    @Override
    public void obtrudeValue(Void value) {
      throw new UnsupportedOperationException("a send's future cannot be obtruded");
    }

    /** Refused, as {@link #obtrudeValue}. */
    @Override
    public void obtrudeException(Throwable e) {
      throw new UnsupportedOperationException("a send's future cannot be obtruded");
    }

    /** The loop's own completion: written. */
    void succeed() {
      super.complete(null);
    }

    /** The loop's own completion: failed, started or not. */
    void fail(Throwable e) {
      super.completeExceptionally(e);
    }
  }

  private static final class Send {
    final SendFuture future = new SendFuture();
    ByteBuffer frame; // null while deferred; then the piece being written
    Body body; // the rest of a large message, or null
    FrameSource source;
    long queued; // bytes counted in queuedBytes
    boolean started;
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

  /** Frames below this size are copied together into one write when several are queued. */
  private static final int SMALL_FRAME = 8 * 1024;

  /**
   * The most bytes one coalesced write carries, and the most of a larger payload copied behind
   * its header; the rest is written from where it is.
   */
  static final int BATCH_BYTES = 64 * 1024;

  /** The pieces {@link #sendFromAsync} reads from its source. */
  private static final int STREAM_CHUNK = 64 * 1024;

  private final Connection connection;
  private final Role role;
  private final AsyncPort port;
  private final EventLoop loop;
  private final long sendQueueBytes;

  private final AtomicLong queuedBytes = new AtomicLong();
  /** Sends waiting for room, not yet encoded: while any wait, later sends wait behind them. */
  private final AtomicInteger deferred = new AtomicInteger();
  private volatile boolean closed;

  // Loop thread only.
  private SelectionKey key;
  private final ArrayDeque<Receive<?>> receives = new ArrayDeque<>();
  private final ArrayDeque<byte[]> carried = new ArrayDeque<>();
  private final ArrayDeque<Send> sends = new ArrayDeque<>();
  private boolean holdingSendLock;
  private boolean wantWrite;
  private boolean retryScheduled;

  /** Loop thread: whether a flush waits for the end of the loop's round. */
  private boolean flushScheduled;

  /** The flush at the end of a round; one object for all rounds. */
  private final Runnable scheduledFlush = () -> {
    flushScheduled = false;
    flush();
  };
  private boolean selected;
  /** Writes handed to the socket (loop thread; read after a send's future completed). */
  private long writeCalls;
  /** junixsocket reported a hang-up and cancelled the key: no more readiness will come. */
  private boolean hungUp;
  private IOException sendFailure;

  private AsyncEndpoint(Connection connection, Role role, AsyncPort port, EventLoop loop,
      long sendQueueBytes) {
    this.connection = connection;
    this.role = role;
    this.port = port;
    this.loop = loop;
    this.sendQueueBytes = sendQueueBytes;
  }

  /** Wraps {@code connection}, both sides of it. */
  public static AsyncEndpoint open(Connection connection, LoopGroup group) {
    return open(connection, group, Role.CONNECTION);
  }

  /**
   * Wraps {@code end} (a {@link Receiver} or {@link Sender}; both are the core's one connection
   * class) for {@code role}; see {@link AsyncConnection#of}, {@link AsyncReceiver#of} and
   * {@link AsyncSender#of}.
   */
  public static AsyncEndpoint open(AutoCloseable end, LoopGroup group, Role role) {
    Objects.requireNonNull(end, role == Role.SENDER ? "sender" : role == Role.RECEIVER ? "receiver"
        : "connection");
    if (!(end instanceof Connection connection) || !(end instanceof AsyncPort port)) {
      throw new IllegalArgumentException("not a Ferry connection: " + end);
    }
    if (connection.isClosed()) throw new IllegalStateException("connection is closed");
    if (role == Role.RECEIVER && !connection.isReadable()) {
      throw new IllegalStateException("connection is write-only");
    }
    if (role == Role.SENDER && !connection.isWritable()) {
      throw new IllegalStateException("connection is read-only");
    }
    EventLoop loop = group.next(port.channel().provider());
    port.claimAsync(role != Role.SENDER);
    if (role != Role.RECEIVER) port.trimSendBuffer(); // async sends write their own frames
    AsyncEndpoint endpoint = new AsyncEndpoint(connection, role, port, loop, group.sendQueueBytes());
    loop.execute(endpoint::register);
    return endpoint;
  }

  /**
   * How many writes {@code end} (an {@link AsyncSender} or {@link AsyncConnection} of Ferry's) has
   * made so far: for tests that check how sends were batched. Exact once the futures of the sends
   * in question have completed.
   */
  public static long writeCalls(AsyncSender end) {
    return endpointOf(end).writeCalls;
  }

  /** How many sends of {@code end} wait for room in its queue, not yet framed; for tests. */
  public static int deferredSends(AsyncSender end) {
    return endpointOf(end).deferred.get();
  }

  private static AsyncEndpoint endpointOf(AsyncSender end) {
    return end instanceof SenderView view ? view.endpoint : (AsyncEndpoint) end;
  }

  /** This endpoint as only a receiver, for {@link AsyncReceiver#of}. */
  public AsyncReceiver receiverView() {
    return new ReceiverView(this);
  }

  /** This endpoint as only a sender, for {@link AsyncSender#of}. */
  public AsyncSender senderView() {
    return new SenderView(this);
  }

  private void register() {
    if (closed) return;
    if (loop.isClosing()) {
      loopClosed();
      return;
    }
    try {
      key = loop.register(port.channel(), this);
    } catch (ClosedChannelException | RuntimeException e) {
      closeQuietly();
      failEverything();
    }
  }

  @Override
  public Connection connection() {
    return connection;
  }

  @Override
  public long queuedBytes() {
    return queuedBytes.get();
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public String toString() {
    String kind = role == Role.CONNECTION ? "AsyncConnection" : role == Role.RECEIVER
        ? "AsyncReceiver" : "AsyncSender";
    return kind + "[" + port.description() + (closed ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  @Override
  public CompletableFuture<byte[]> receiveAsync() {
    return receive(port.maxMessageSize(), null, m -> m);
  }

  @Override
  public CompletableFuture<byte[]> receiveAsync(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return receive(port.maxMessageSize(), timeout, m -> m);
  }

  @Override
  public <T> CompletableFuture<T> receiveAsync(Codec<T> codec) {
    Objects.requireNonNull(codec, "codec");
    return receive(port.maxMessageSize(), null, m -> codec.decode(ByteBuffer.wrap(m).asReadOnlyBuffer()));
  }

  @Override
  public <T> CompletableFuture<T> receiveAsync(Codec<T> codec, Duration timeout) {
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(timeout, "timeout");
    return receive(port.maxMessageSize(), timeout,
        m -> codec.decode(ByteBuffer.wrap(m).asReadOnlyBuffer()));
  }

  @Override
  public CompletableFuture<Long> receiveToAsync(WritableByteChannel sink) {
    Objects.requireNonNull(sink, "sink");
    return receive(new StreamReceive(port.maxMessageSize(), sink), null);
  }

  /** A receive of at most {@code limit} bytes: the handshake asks for 256. */
  <T> CompletableFuture<T> receive(long limit, Duration timeout, Decoder<T> decoder) {
    return receive(new Receive<>(limit, decoder), timeout);
  }

  private <T> CompletableFuture<T> receive(Receive<T> r, Duration timeout) {
    if (closed || port.isClosed()) {
      r.future.completeExceptionally(closedException());
      return r.future;
    }
    if (!port.isReadable()) {
      r.future.completeExceptionally(new IllegalStateException("connection is write-only"));
      return r.future;
    }
    loop.execute(() -> {
      if (closed) {
        r.future.completeExceptionally(closedException());
        return;
      }
      receives.add(r);
      if (timeout != null) {
        r.timer = loop.schedule(Math.max(0, toNanos(timeout)), () -> {
          r.future.completeExceptionally(new SocketTimeoutException(
              "receive timed out after " + timeout.toMillis() + " ms"));
          updateInterest();
        });
      }
      deliver();
    });
    return r.future;
  }

  private static long toNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 2;
    }
  }

  /** Loop thread: hands arrived messages to pending receives, in order. */
  private void deliver() {
    while (!closed) {
      Receive<?> r = receives.peek();
      if (r == null) break;
      if (r.future.isDone()) {
        // Cancelled or timed out; one that was streaming its message leaves the rest unread.
        if (r instanceof StreamReceive) port.abandonStream();
        dropHead();
        continue;
      }
      if (r instanceof StreamReceive s) {
        if (!stream(s)) break;
        continue;
      }
      byte[] message = carried.poll();
      if (message == null) {
        try {
          message = port.receiveAvailable(r.limit, selected, hungUp, loop.scratch());
        } catch (IOException | RuntimeException e) {
          if (failHead(r, e)) return;
          continue; // the next pending receive gets the same end (EOF again, and so on)
        } finally {
          selected = false;
        }
        if (message == null) break;
      }
      dropHead();
      if (!complete(r, message)) carried.addFirst(message); // cancelled meanwhile: keep it
    }
    updateInterest();
  }

  /**
   * Loop thread: moves what has arrived of the next message to {@code s}'s sink; true if the
   * receive is done (completed or failed), false if the rest has yet to arrive.
   */
  private boolean stream(StreamReceive s) {
    byte[] message = carried.poll(); // a cancelled array receive read it whole: write it out
    long length;
    if (message != null) {
      try {
        ByteBuffer b = ByteBuffer.wrap(message);
        while (b.hasRemaining()) s.sink.write(b);
        length = message.length;
      } catch (IOException | RuntimeException e) {
        dropHead();
        s.future.completeExceptionally(e);
        return true;
      }
    } else {
      try {
        length = port.transferAvailable(s.limit, s.sink, selected, hungUp, loop.scratch());
      } catch (IOException | RuntimeException e) {
        failHead(s, e);
        return true;
      } finally {
        selected = false;
      }
      if (length < 0) return false;
    }
    dropHead();
    s.future.complete(length);
    return true;
  }

  /**
   * Loop thread: fails the receive at the head with {@code e}. True if that closed the connection
   * (a too-large message on a read-only end does, as in CPython) and everything else failed too.
   */
  private boolean failHead(Receive<?> r, Throwable e) {
    dropHead();
    boolean wasClosed = closed;
    // Closed before the future fails, so that whoever sees the failure sees the end closed too.
    boolean closedNow = !wasClosed && port.isClosed();
    if (closedNow) closed = true;
    r.future.completeExceptionally(wasClosed ? closedException() : e);
    if (closedNow) failEverything();
    return closedNow;
  }

  private void dropHead() {
    Receive<?> r = receives.poll();
    if (r != null && r.timer != null) r.timer.cancel();
  }

  private static <T> boolean complete(Receive<T> r, byte[] message) {
    if (r.future.isDone()) return false;
    T value;
    try {
      value = r.decoder.decode(message);
    } catch (IOException | RuntimeException e) {
      r.future.completeExceptionally(e); // the message is consumed, as a blocking receive does
      return true;
    }
    return r.future.complete(value);
  }

  private boolean hasLiveReceive() {
    while (!receives.isEmpty() && receives.peek().future.isDone()) dropHead();
    return !receives.isEmpty();
  }

  private void updateInterest() {
    if (key == null || !key.isValid()) return;
    int ops = (hasLiveReceive() ? SelectionKey.OP_READ : 0) | (wantWrite ? SelectionKey.OP_WRITE : 0);
    if (key.interestOps() != ops) key.interestOps(ops);
  }

  @Override
  public void ready(SelectionKey k) {
    if (!k.isValid()) {
      if (closed) return;
      hungUp = true;
      deliver();
      if (wantWrite) flush(); // the peer is gone: the write fails, or retries without a key
      return;
    }
    int ready = k.readyOps();
    if ((ready & SelectionKey.OP_READ) != 0) {
      selected = true;
      deliver();
      selected = false;
    }
    if ((ready & SelectionKey.OP_WRITE) != 0 && k.isValid()) flush();
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  @Override
  public CompletableFuture<Void> sendAsync(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return sendAsync(ByteBuffer.wrap(bytes));
  }

  @Override
  public CompletableFuture<Void> sendAsync(ByteBuffer buffer) {
    ByteBuffer payload = buffer.slice();
    buffer.position(buffer.limit());
    return send(payload.remaining(), new PayloadSource(payload));
  }

  @Override
  public <T> CompletableFuture<Void> sendAsync(T value, Codec<? super T> codec) {
    Objects.requireNonNull(codec, "codec");
    return send(-1, () -> {
      MessageOutput out = new MessageOutput();
      codec.encode(value, out);
      return Frame.whole(out.toFrame());
    });
  }

  @Override
  public CompletableFuture<Void> sendFromAsync(ReadableByteChannel source, long size) {
    Objects.requireNonNull(source, "source");
    if (size < 0) throw new IllegalArgumentException("size < 0: " + size);
    return send(size, () -> new Frame(header(size), new SourceBody(source, size),
        Frames.SHORT_HEADER + size));
  }

  /**
   * A small payload is copied behind its header, to leave in one write with its neighbours; a
   * larger one is written from where it is (the caller leaves it alone until the future
   * completes), its first piece copied behind the header in the loop's batch buffer.
   */
  private static Frame frameOf(ByteBuffer payload) {
    int length = payload.remaining();
    if (Frames.SHORT_HEADER + length >= SMALL_FRAME) {
      return new Frame(EMPTY, new PayloadBody(header(length), payload),
          Frames.SHORT_HEADER + (long) length);
    }
    ByteBuffer frame = ByteBuffer.allocate(Frames.SHORT_HEADER + length);
    frame.putInt(length).put(payload.duplicate()).flip();
    return Frame.whole(frame);
  }

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  /**
   * The caller's payload behind its header: first a head (see {@link #head}), then the rest
   * from where it is.
   */
  private static final class PayloadBody implements Body {
    private final ByteBuffer header;
    private final ByteBuffer payload;
    private boolean needsHead = true;
    private int headStart;

    PayloadBody(ByteBuffer header, ByteBuffer payload) {
      this.header = header;
      this.payload = payload;
    }

    boolean needsHead() {
      return needsHead;
    }

    /**
     * The head: for a heap payload the header and up to 64 KiB of it, copied into {@code batch}
     * (one write for a message up to 64 KiB; the JDK would copy a heap buffer into a direct one
     * anyway); for a direct payload only the header, since copying it would cost more than the
     * second write saves (1 MiB one-way async: 1.48-1.59x C with the copy, 1.73-1.79x without).
     */
    ByteBuffer head(ByteBuffer batch) {
      needsHead = false;
      headStart = payload.position();
      if (payload.isDirect()) return header.duplicate();
      batch.clear().put(header.duplicate());
      int n = Math.min(payload.remaining(), BATCH_BYTES);
      batch.put(payload.slice().limit(n));
      payload.position(payload.position() + n);
      return batch.flip();
    }

    /**
     * What to write next when the socket did not take all of {@code head} (the batch buffer,
     * which is given back): the rest of the payload from the caller's buffer once the header
     * has left; the head again, made afresh, if nothing left; a copy of the rest only in the
     * rare case of a header cut short.
     */
    ByteBuffer resume(ByteBuffer head) {
      int taken = head.position();
      int headerLength = header.remaining();
      if (taken > 0 && taken < headerLength) {
        return ByteBuffer.allocate(head.remaining()).put(head).flip();
      }
      head.position(head.limit());
      if (taken == 0) {
        payload.position(headStart);
        needsHead = true;
        return EMPTY;
      }
      payload.position(headStart + taken - headerLength);
      ByteBuffer next = next();
      return next == null ? EMPTY : next;
    }

    /** The rest of the payload (the transport hands a heap buffer to the socket in windows). */
    @Override
    public ByteBuffer next() {
      if (!payload.hasRemaining()) return null;
      ByteBuffer rest = payload.slice();
      payload.position(payload.limit());
      return rest;
    }
  }

  private static ByteBuffer header(long length) {
    ByteBuffer header = ByteBuffer.allocate(Frames.SHORT_HEADER + Frames.LONG_LENGTH);
    Frames.putHeader(header, length);
    return header.flip();
  }

  /** The payload of {@link #sendFromAsync}, read as the socket takes it. */
  private static final class SourceBody implements Body {
    private final ReadableByteChannel source;
    private final long size;
    private long left;
    private ByteBuffer chunk;

    SourceBody(ReadableByteChannel source, long size) {
      this.source = source;
      this.size = size;
      this.left = size;
    }

    @Override
    public ByteBuffer next() throws IOException {
      if (left == 0) return null;
      if (chunk == null) chunk = ByteBuffer.allocate((int) Math.min(left, STREAM_CHUNK));
      chunk.clear().limit((int) Math.min(chunk.capacity(), left));
      int n = source.read(chunk);
      if (n < 0) throw new EOFException("source ended before " + size + " bytes");
      left -= n;
      return chunk.flip();
    }
  }

  private CompletableFuture<Void> send(long length, FrameSource source) {
    Send s = new Send();
    if (closed || port.isClosed()) {
      s.future.fail(closedException());
      return s.future;
    }
    if (!port.isWritable()) {
      s.future.fail(new IllegalStateException("connection is read-only"));
      return s.future;
    }
    if (length > port.maxSendSize()) return failInTurn(s, port.tooLongToSend(length));
    if (deferred.get() == 0 && queuedBytes.get() < sendQueueBytes) {
      Frame frame;
      try {
        frame = source.frame();
      } catch (IOException | RuntimeException e) {
        return failInTurn(s, e);
      }
      s.frame = frame.head();
      s.body = frame.body();
      s.queued = frame.size();
      queuedBytes.addAndGet(s.queued);
    } else {
      // Full: keep a reference, not a copy, until the queue has room.
      s.source = source;
      deferred.incrementAndGet();
    }
    return handOver(s);
  }

  /**
   * Fails {@code s} after the sends queued before it, so that futures complete in call order: at
   * the head of the queue, as a send that waited and could not be made (found by review).
   */
  private CompletableFuture<Void> failInTurn(Send s, Exception e) {
    s.failure = e;
    deferred.incrementAndGet();
    return handOver(s);
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
    if (closed || sendFailure != null) {
      forget(s);
      s.future.fail(s.failure != null ? s.failure : closed ? closedException() : sendFailure);
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

  /** Loop thread: writes queued messages until the socket is full or the queue empty. */
  private void flush() {
    while (!sends.isEmpty() && !closed) {
      Send s = sends.peek();
      if (!s.started && s.future.isDone()) { // cancelled before any byte left: withdrawn
        sends.poll();
        forget(s);
        continue;
      }
      // Everything ahead has been written: the queue has room for a send that waited.
      if (s.frame == null && !materialize(s)) {
        sends.poll();
        deferred.decrementAndGet();
        s.source = null;
        s.future.fail(s.failure);
        continue;
      }
      // The lock first: a batch gathered in the loop's shared buffer must be written before this
      // method returns, or another connection of the loop overwrites it (found by review).
      if (!holdingSendLock) {
        if (!port.tryLockSend()) {
          retryLater(); // a blocking sender is writing: its message goes out whole first
          return;
        }
        holdingSendLock = true;
      }
      if (!s.started) {
        // From here the message goes out whole: the caller can no longer withdraw it.
        if (!s.future.start()) {
          sends.poll();
          forget(s);
          releaseSendLock(); // nothing of it left: blocking senders may go first (found by review)
          continue;
        }
        if (s.body == null && s.frame.remaining() < SMALL_FRAME && sends.size() > 1) {
          s = coalesce();
        } else if (s.body != null) {
          port.prepareWrite(s.queued);
        }
      }
      if (s.body instanceof PayloadBody payload && payload.needsHead()) {
        s.frame = payload.head(loop.batchBuffer());
      }
      try {
        writeCalls++;
        port.writeNow(s.frame);
      } catch (IOException | RuntimeException e) {
        releaseSendLock();
        sendFailure = e instanceof IOException io ? io : new IOException(e);
        failSends(sendFailure);
        updateInterest();
        return;
      }
      s.started = true;
      // A TLS record may still wait to leave: the send is done only when it has.
      if (s.frame.hasRemaining() || port.hasPendingOutput()) {
        if (s.frame == loop.batchBuffer()) {
          // The loop's batch buffer serves the next connection too: no send keeps it past this
          // return, not even emptied (a TLS record still waiting to leave), or a later
          // writeNow(s.frame) would send what the next connection put there (found by review).
          // The rest moves out, or a payload goes on from the caller's buffer.
          if (s.body instanceof PayloadBody payload) {
            s.frame = payload.resume(s.frame);
          } else {
            s.frame = ByteBuffer.allocate(s.frame.remaining()).put(s.frame).flip();
          }
        }
        wantWrite = true;
        if (hungUp) retryLater(); else updateInterest();
        return;
      }
      if (s.body != null) {
        ByteBuffer next;
        try {
          next = s.body.next();
        } catch (IOException | RuntimeException e) {
          // Part of the message has left: the peer was promised bytes that will never come.
          sends.poll();
          forget(s);
          releaseSendLock();
          closeQuietly();
          s.fail(e);
          return;
        }
        if (next != null) {
          s.frame = next;
          if (!next.hasRemaining()) {
            // The source has nothing yet: ask again soon, not whenever the socket is writable.
            wantWrite = false;
            updateInterest();
            retryLater();
            return;
          }
          continue;
        }
      }
      sends.poll();
      forget(s);
      releaseSendLock(); // between messages, blocking senders get their turn
      s.complete();
    }
    releaseSendLock(); // no message is half written here
    wantWrite = false;
    updateInterest();
  }

  /**
   * Makes the frame of a send that waited for room in the queue; false if that failed, with the
   * reason in {@link Send#failure} (the send stays deferred, for its turn at the head).
   */
  private boolean materialize(Send s) {
    if (s.failure != null) return false;
    Frame frame;
    try {
      frame = s.source.frame();
    } catch (IOException | RuntimeException e) {
      s.failure = e;
      return false;
    }
    s.source = null;
    s.frame = frame.head();
    s.body = frame.body();
    s.queued = frame.size();
    queuedBytes.addAndGet(s.queued);
    deferred.decrementAndGet();
    return true;
  }

  /**
   * Replaces the small frames at the head of the queue with one batch holding copies of them all,
   * so that they leave in one write (decision 5: syscalls per message). Sends that waited for
   * room are made now and join; a cancelled send, or one whose frame could not be made, ends the
   * batch. Each member is started as it is copied; one withdrawn in between is left out.
   */
  private Send coalesce() {
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
      if (size >= SMALL_FRAME || total + size > BATCH_BYTES) break;
      total += size;
      count++;
    }
    if (count < 2) return sends.peek();
    Send batch = new Send();
    // Gathered in the loop's direct buffer: no allocation, and the write needs no copy to a
    // temporary direct buffer. If the socket takes only part, the rest moves out (see flush).
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
        ByteBuffer payload = ((PayloadSource) m.source).payload();
        batch.frame.putInt(payload.remaining()).put(payload.duplicate());
        m.source = null;
        deferred.decrementAndGet();
      }
      batch.members.add(m.future);
    }
    batch.frame.flip();
    batch.started = true; // its members can no longer be withdrawn
    sends.addFirst(batch);
    return batch;
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

  // ---------------------------------------------------------------------------------------------
  // Closing

  @Override
  public void close() throws IOException {
    if (closed) return;
    closed = true;
    try {
      port.close();
    } finally {
      loop.execute(this::failEverything);
    }
  }

  void closeQuietly() {
    try {
      close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing " + this, e);
    }
  }

  /** Loop thread: the connection is closed; release the key and the send lock, fail the futures. */
  private void failEverything() {
    if (key != null) key.cancel();
    releaseSendLock();
    ConnectionClosedException e = closedException();
    failSends(e);
    Receive<?> r;
    while ((r = receives.poll()) != null) {
      if (r.timer != null) r.timer.cancel();
      r.future.completeExceptionally(e);
    }
    carried.clear();
  }

  @Override
  public void loopClosed() {
    closed = true;
    try {
      port.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing " + this, e);
    }
    failEverything();
  }

  private static ConnectionClosedException closedException() {
    return new ConnectionClosedException("connection is closed");
  }

  // ---------------------------------------------------------------------------------------------
  // Client handshake, driven by receive completions on the loop thread.

  /**
   * Runs the client side of the handshake with {@code key}; completes with this connection once
   * both sides are welcomed, or closes it and fails.
   */
  public CompletableFuture<AsyncConnection> clientHandshake(byte[] key, Duration timeout,
      String peer) {
    return clientHandshake(key, timeout, timeout, peer);
  }

  /**
   * As {@link #clientHandshake(byte[], Duration, String)}, failing after {@code timeout} with a
   * message that names {@code reported}: the whole handshake timeout, of which a TLS handshake
   * used the rest.
   */
  public CompletableFuture<AsyncConnection> clientHandshake(byte[] key, Duration timeout,
      Duration reported, String peer) {
    CompletableFuture<AsyncConnection> result = new CompletableFuture<>();
    loop.execute(() -> {
      EventLoop.Timer timer = loop.schedule(toNanos(timeout), () -> {
        if (result.completeExceptionally(new SocketTimeoutException("handshake timed out after "
            + reported.toMillis() + " ms with " + peer))) {
          closeQuietly();
        }
      });
      result.whenComplete((c, e) -> timer.cancel());
    });
    handshakeStep(new dev.ferry.internal.auth.ClientHandshake(key), result);
    return result;
  }

  private void handshakeStep(dev.ferry.internal.auth.ClientHandshake handshake,
      CompletableFuture<AsyncConnection> result) {
    receive(Handshake.MAX_MESSAGE_LENGTH, null, m -> m).whenComplete((message, error) -> {
      if (result.isDone()) return;
      if (error != null) {
        closeQuietly();
        result.completeExceptionally(error);
        return;
      }
      dev.ferry.internal.auth.ServerHandshake.Step step = handshake.onMessage(message);
      CompletableFuture<Void> sent = CompletableFuture.completedFuture(null);
      for (byte[] reply : step.replies()) sent = sendAsync(reply);
      if (step.failure() != null) {
        result.completeExceptionally(step.failure());
        sent.whenComplete((v, e) -> closeQuietly()); // after #FAILURE# has left
      } else if (handshake.isDone()) {
        result.complete(this);
      } else {
        handshakeStep(handshake, result);
      }
    });
  }

  /** Every handshake read is capped here, as CPython's {@code recv_bytes(256)} does. */

  // ---------------------------------------------------------------------------------------------
  // One-sided views: only the methods of their side, so that a one-way end is not mistaken for a
  // connection that can do both.

  /** What both views share: the endpoint, its state and its end. */
  private abstract static class View {
    final AsyncEndpoint endpoint;

    View(AsyncEndpoint endpoint) {
      this.endpoint = endpoint;
    }

    public boolean isClosed() {
      return endpoint.isClosed();
    }

    public void close() throws IOException {
      endpoint.close();
    }

    @Override
    public String toString() {
      return endpoint.toString();
    }
  }

  private static final class ReceiverView extends View implements AsyncReceiver {
    ReceiverView(AsyncEndpoint endpoint) {
      super(endpoint);
    }

    @Override
    public Receiver receiver() {
      return endpoint.connection;
    }

    @Override
    public CompletableFuture<byte[]> receiveAsync() {
      return endpoint.receiveAsync();
    }

    @Override
    public CompletableFuture<byte[]> receiveAsync(Duration timeout) {
      return endpoint.receiveAsync(timeout);
    }

    @Override
    public <T> CompletableFuture<T> receiveAsync(Codec<T> codec) {
      return endpoint.receiveAsync(codec);
    }

    @Override
    public <T> CompletableFuture<T> receiveAsync(Codec<T> codec, Duration timeout) {
      return endpoint.receiveAsync(codec, timeout);
    }

    @Override
    public CompletableFuture<Long> receiveToAsync(WritableByteChannel sink) {
      return endpoint.receiveToAsync(sink);
    }

  }

  private static final class SenderView extends View implements AsyncSender {
    SenderView(AsyncEndpoint endpoint) {
      super(endpoint);
    }

    @Override
    public Sender sender() {
      return endpoint.connection;
    }

    @Override
    public CompletableFuture<Void> sendAsync(byte[] bytes) {
      return endpoint.sendAsync(bytes);
    }

    @Override
    public CompletableFuture<Void> sendAsync(ByteBuffer buffer) {
      return endpoint.sendAsync(buffer);
    }

    @Override
    public <T> CompletableFuture<Void> sendAsync(T value, Codec<? super T> codec) {
      return endpoint.sendAsync(value, codec);
    }

    @Override
    public CompletableFuture<Void> sendFromAsync(ReadableByteChannel source, long size) {
      return endpoint.sendFromAsync(source, size);
    }

    @Override
    public long queuedBytes() {
      return endpoint.queuedBytes();
    }

  }
}
