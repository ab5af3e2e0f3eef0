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
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The implementation of {@link AsyncConnection}, and behind views of it ({@link AsyncViews}), of
 * {@link AsyncReceiver} and {@link AsyncSender}: one connection on one event loop. It registers
 * the connection, keeps the selector's interest in step with its {@link ReceiveQueue} and
 * {@link SendQueue}, dispatches readiness to them, and closes. All state except the queues'
 * counters and the closed flag belongs to the loop thread; other threads hand their requests to
 * it with {@link EventLoop#execute}, which keeps each thread's calls in order.
 */
public final class AsyncEndpoint implements AsyncConnection, EventLoop.Handler {
  private static final System.Logger LOG = System.getLogger(AsyncEndpoint.class.getName());

  /** What a wrapper takes over: both sides, or one. */
  public enum Role {
    CONNECTION,
    RECEIVER,
    SENDER
  }

  private final Connection connection;
  private final Role role;
  private final AsyncPort port;
  private final EventLoop loop;
  private final SendQueue sends;
  private final ReceiveQueue receives;
  private volatile boolean closed;

  /** Hears of a close by someone else than this endpoint: a blocking call that cut a frame. */
  private final Runnable closeWatcher = this::closedElsewhere;

  // Loop thread only.
  private SelectionKey key;
  /** junixsocket reported a hang-up and cancelled the key: no more readiness will come. */
  private boolean hungUp;

  private AsyncEndpoint(Connection connection, Role role, AsyncPort port, EventLoop loop,
      long sendQueueBytes) {
    this.connection = connection;
    this.role = role;
    this.port = port;
    this.loop = loop;
    this.sends = new SendQueue(this, port, loop, sendQueueBytes);
    this.receives = new ReceiveQueue(this, port, loop);
  }

  /**
   * Wraps {@code end} (a {@link Receiver} or {@link Sender}; both are the core's one connection
   * class) for {@code role}; see {@link AsyncConnection#of}, {@link AsyncReceiver#of} and
   * {@link AsyncSender#of}.
   */
  public static AsyncEndpoint open(AutoCloseable end, LoopGroup group, Role role) {
    Objects.requireNonNull(end, role == Role.SENDER ? "sender" : role == Role.RECEIVER ? "receiver"
        : "connection");
    AsyncPort port = portOf(end);
    if (role == Role.RECEIVER && !port.isReadable()) {
      throw new IllegalStateException("connection is write-only");
    }
    if (role == Role.SENDER && !port.isWritable()) {
      throw new IllegalStateException("connection is read-only");
    }
    EventLoop loop = group.next(port.channel().provider());
    return wrap((Connection) end, port, role, loop, group.sendQueueBytes());
  }

  /** Wraps both sides of a client's new {@code connection} on {@code loop}, where it connected. */
  static AsyncEndpoint openOn(Connection connection, EventLoop loop, long sendQueueBytes) {
    return wrap(connection, portOf(connection), Role.CONNECTION, loop, sendQueueBytes);
  }

  private static AsyncPort portOf(AutoCloseable end) {
    if (!(end instanceof Connection connection) || !(end instanceof AsyncPort port)) {
      throw new IllegalArgumentException("not a Ferry connection: " + end);
    }
    if (connection.isClosed()) throw new IllegalStateException("connection is closed");
    return port;
  }

  private static AsyncEndpoint wrap(Connection connection, AsyncPort port, Role role,
      EventLoop loop, long sendQueueBytes) {
    port.claimAsync(role != Role.SENDER);
    if (role != Role.RECEIVER) port.trimSendBuffer(); // async sends write their own frames
    AsyncEndpoint endpoint = new AsyncEndpoint(connection, role, port, loop, sendQueueBytes);
    port.addCloseWatcher(endpoint.closeWatcher); // closed before this: register fails, and closes
    loop.execute(endpoint::register);
    return endpoint;
  }

  /** This endpoint as only a receiver, for {@link AsyncReceiver#of}. */
  public AsyncReceiver receiverView() {
    return new AsyncViews.ReceiverView(this);
  }

  /** This endpoint as only a sender, for {@link AsyncSender#of}. */
  public AsyncSender senderView() {
    return new AsyncViews.SenderView(this);
  }

  /**
   * Runs the client side of the HMAC handshake with {@code key} ({@code unprefixedDigest} answers
   * a challenge that names no digest); completes with the digest it used once both sides are
   * welcomed, or closes it and fails (see {@link AsyncClientHandshake}).
   */
  CompletableFuture<String> clientHandshake(byte[] key, String unprefixedDigest,
      Duration timeout, Duration reported, String peer) {
    return AsyncClientHandshake.run(this, key, unprefixedDigest, timeout, reported, peer);
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
    return sends.queuedBytes();
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

  EventLoop loop() {
    return loop;
  }

  SendQueue sendQueue() {
    return sends;
  }

  /** Loop thread: whether the peer hung up (junixsocket cancelled the key). */
  boolean hungUp() {
    return hungUp;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving and sending: the queues do the work.

  @Override
  public CompletableFuture<byte[]> receiveAsync() {
    return receives.receive(port.maxMessageSize(), null, m -> m);
  }

  @Override
  public CompletableFuture<byte[]> receiveAsync(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    return receives.receive(port.maxMessageSize(), timeout, m -> m);
  }

  @Override
  public <T> CompletableFuture<T> receiveAsync(Codec<T> codec) {
    Objects.requireNonNull(codec, "codec");
    return receives.receive(port.maxMessageSize(), null, decoder(codec));
  }

  @Override
  public <T> CompletableFuture<T> receiveAsync(Codec<T> codec, Duration timeout) {
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(timeout, "timeout");
    return receives.receive(port.maxMessageSize(), timeout, decoder(codec));
  }

  private static <T> ReceiveQueue.Decoder<T> decoder(Codec<T> codec) {
    return m -> codec.decode(ByteBuffer.wrap(m).asReadOnlyBuffer());
  }

  @Override
  public CompletableFuture<Long> receiveToAsync(WritableByteChannel sink) {
    Objects.requireNonNull(sink, "sink");
    return receives.receiveTo(sink);
  }

  /** A receive of at most {@code limit} bytes: the handshake asks for 256. */
  <T> CompletableFuture<T> receive(long limit, Duration timeout, ReceiveQueue.Decoder<T> decoder) {
    return receives.receive(limit, timeout, decoder);
  }

  @Override
  public CompletableFuture<Void> sendAsync(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return sendAsync(ByteBuffer.wrap(bytes));
  }

  @Override
  public CompletableFuture<Void> sendAsync(ByteBuffer buffer) {
    ByteBuffer payload = buffer.slice();
    buffer.position(buffer.limit());
    return sends.send(payload.remaining(), new OutgoingFrame.PayloadSource(payload));
  }

  @Override
  public <T> CompletableFuture<Void> sendAsync(T value, Codec<? super T> codec) {
    Objects.requireNonNull(codec, "codec");
    return sends.send(-1, () -> OutgoingFrame.encoded(value, codec));
  }

  @Override
  public CompletableFuture<Void> sendFromAsync(ReadableByteChannel source, long size) {
    Objects.requireNonNull(source, "source");
    if (size < 0) throw new IllegalArgumentException("size < 0: " + size);
    return sends.send(size, () -> OutgoingFrame.streamed(source, size));
  }

  // ---------------------------------------------------------------------------------------------
  // Loop thread: readiness

  /** Loop thread: reads while a receive waits, writes while a message waits for socket room. */
  void updateInterest() {
    if (key == null || !key.isValid()) return;
    int ops = (receives.wantsRead() ? SelectionKey.OP_READ : 0)
        | (sends.wantsWrite() ? SelectionKey.OP_WRITE : 0);
    if (key.interestOps() != ops) key.interestOps(ops);
  }

  @Override
  public void ready(SelectionKey k) {
    if (!k.isValid()) {
      if (closed) return;
      hungUp = true;
      receives.deliver();
      sends.flushIfWaiting(); // the peer is gone: the write fails, or retries without a key
      return;
    }
    int ready = k.readyOps();
    if ((ready & SelectionKey.OP_READ) != 0) receives.readable();
    if ((ready & SelectionKey.OP_WRITE) != 0 && k.isValid()) sends.flush();
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
      LOG.log(Level.DEBUG, "closing " + this, e);
    }
  }

  /**
   * Loop thread: marks this endpoint closed if its connection closed itself underneath (a
   * too-large message on a read-only end does, as in CPython); true if it did just now.
   */
  boolean closedUnderneath() {
    if (closed || !port.isClosed()) return false;
    closed = true;
    return true;
  }

  /**
   * Any thread: the connection may have closed underneath, by a blocking send or receive that cut
   * a frame; the loop then fails what waits, which the selector would never report on TCP.
   */
  private void closedElsewhere() {
    if (closed || !port.isClosed()) return;
    loop.execute(() -> {
      if (closedUnderneath()) failEverything();
    });
  }

  /** Loop thread: the connection is closed; release the key and the send lock, fail the futures. */
  void failEverything() {
    port.removeCloseWatcher(closeWatcher);
    if (key != null) key.cancel();
    loop.leave(this);
    ConnectionClosedException e = closedException();
    sends.failAll(e);
    receives.failAll(e);
  }

  @Override
  public void loopClosed() {
    closed = true;
    try {
      port.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "closing " + this, e);
    }
    failEverything();
  }

  static ConnectionClosedException closedException() {
    return new ConnectionClosedException("connection is closed");
  }

  /** {@code d} in nanoseconds, or a practical forever if it has more. */
  static long toNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 2;
    }
  }
}
