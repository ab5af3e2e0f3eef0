package dev.ferry.internal.connection;

import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.ConnectionMetrics;
import dev.ferry.ConnectionOptions;
import dev.ferry.PeerCredentials;
import dev.ferry.Receiver;
import dev.ferry.Sender;
import dev.ferry.codec.Codec;
import dev.ferry.internal.auth.HandshakeChannel;
import dev.ferry.internal.events.FerryEvents;
import dev.ferry.internal.framing.FrameReader;
import dev.ferry.internal.framing.Frames;
import dev.ferry.internal.framing.MessageOutput;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.InheritedDescriptors;
import dev.ferry.internal.transport.LaneTransport;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.Sockets;
import dev.ferry.internal.transport.Transport;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.channels.spi.SelectorProvider;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * The one implementation of {@link Connection}, {@link Receiver} and {@link Sender}: the framing of
 * PROTOCOL.md section 1 over a {@link Transport} (a plain socket or TLS), used by blocking
 * callers, wait sets, the accept loop's handshakes and the event loops alike.
 *
 * <p>It is two halves over one transport: a {@link FrameReceiver} (read lock, {@link FrameReader}
 * and its read-ahead buffer, readability) and a {@link FrameSender} (send lock shared with the
 * event loop, send buffer). A frame is whole or the connection closes: a receive that stops
 * between a header and the end of its payload, or a send that stops after part of its frame left,
 * closes the connection, so that no end looks usable with its stream out of step. The lock order
 * is in the package documentation.
 */
public final class FramedConnection implements Connection, AsyncPort {
  private final Transport transport;
  private final String description;
  private final long maxMessageSize;
  private final long maxSendSize;
  private final String peer;
  private final ConnectionOptions options;

  private final FrameReceiver receiver;
  private final FrameSender sender;
  private final DescriptorPassing descriptors;

  /** Closed after the transport: the pump of an adopted pipe end; null for the others. */
  private volatile Closeable companion;

  private final MessageCounters counters = new MessageCounters();
  private final long openedNanos = System.nanoTime();
  private final AtomicBoolean closeRecorded = new AtomicBoolean();

  /** The queued bytes of this connection's asynchronous sends, once an event loop sends. */
  private volatile LongSupplier asyncQueuedBytes;

  /** Runs once, on the first close: a listener's count of open connections. */
  private volatile Runnable onClose;

  /** Read once, when first asked; the kernel fixed them at connect time. */
  private volatile PeerCredentials credentials;

  public FramedConnection(Transport transport, String description, boolean readable, boolean writable,
      ConnectionOptions options) {
    this.transport = transport;
    this.description = description;
    this.options = options;
    this.maxMessageSize = options.maxMessageSize();
    this.maxSendSize = options.maxSendSize();
    this.peer = options.peerPython().map(v -> "python " + v).orElse("the peer");
    this.receiver = new FrameReceiver(transport, description, readable, writable,
        options.receiveSpin().toNanos(), counters,
        this::recordClose);
    this.sender = new FrameSender(transport, description, writable, this::closeQuietly, counters);
    this.descriptors = new DescriptorPassing(this, transport, receiver, sender, readable, options);
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public Optional<PeerCredentials> peerCredentials() {
    PeerCredentials c = credentials;
    if (c == null) {
      try {
        c = Sockets.peerCredentials(transport.channel()).orElse(null);
      } catch (IOException e) {
        return Optional.empty();
      }
      credentials = c;
    }
    return Optional.ofNullable(c);
  }

  @Override
  public int descriptor() throws IOException {
    if (isClosed()) throw new ConnectionClosedException("connection is closed");
    if (!transport.passesDescriptors()) {
      throw new UnsupportedOperationException("no descriptor to show for " + description
          + ": only unix socket connections show theirs");
    }
    return InheritedDescriptors.number(transport.fileDescriptor());
  }

  /** Closes {@code companion} after the transport: the pump of an adopted pipe end. */
  void closeWith(Closeable companion) {
    this.companion = companion;
  }

  /** Whether this connection's bytes travel through a shared-memory lane (docs/LANE.md). */
  public boolean usesSharedMemoryLane() {
    return transport instanceof LaneTransport lane && lane.usesLane();
  }

  /** The options this connection was made with: handshake timeout, digest, limits. */
  public ConnectionOptions options() {
    return options;
  }

  @Override
  public boolean isReadable() {
    return receiver.readable() && !transport.isClosed();
  }

  @Override
  public boolean isWritable() {
    return sender.writable() && !transport.isClosed();
  }

  @Override
  public boolean isClosed() {
    return transport.isClosed();
  }

  @Override
  public ConnectionMetrics metrics() {
    LongSupplier queued = asyncQueuedBytes;
    return new ConnectionMetrics(counters.messagesSent(), counters.bytesSent(),
        counters.messagesReceived(), counters.bytesReceived(),
        queued == null ? 0 : queued.getAsLong());
  }

  /**
   * Records a {@code dev.ferry.ConnectionOpened} event if JFR records it: {@code side} is
   * accepted, connected or pipe, {@code kind} the transport (unix, tcp, tls, socketpair),
   * {@code digest} the HMAC handshake's ({@code ServerHandshake.digest()}), or none without one.
   */
  public void recordOpened(String side, String kind, long handshakeNanos, String digest) {
    if (!FerryEvents.connectionOpenedEnabled()) return;
    FerryEvents.connectionOpened(side, kind, address(true), address(false),
        peerCredentials().orElse(null), handshakeNanos, digest);
  }

  /** The peer in words, for events and logs: its address, else its process, else empty. */
  public String peerName() {
    String a = address(false);
    if (!a.isEmpty()) return a;
    return peerCredentials().map(p -> "pid " + p.pid() + " uid " + p.uid()).orElse("");
  }

  private String address(boolean local) {
    try {
      SocketChannel c = transport.channel();
      Object a = local ? c.getLocalAddress() : c.getRemoteAddress();
      return a == null ? "" : a.toString();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** Calls {@code action} once, when this connection first closes, by {@link #close()} or itself. */
  public void whenClosed(Runnable action) {
    onClose = action;
    if (transport.isClosed()) recordClose("closed");
  }

  @Override
  public void close() throws IOException {
    boolean wasOpen = !transport.isClosed();
    try {
      transport.close();
      Closeable c = companion;
      if (c != null) c.close();
    } finally {
      receiver.watchers().runAll(); // ready now: a receive throws at once
      recordClose(wasOpen ? "closed" : "closed after its socket was");
    }
  }

  /** Closes after a frame was cut short: the failure that cut it is the one to report. */
  private void closeQuietly() {
    try {
      transport.close();
    } catch (IOException e) {
      // The socket is unusable either way.
    } finally {
      receiver.watchers().runAll();
      recordClose("a frame was cut short");
    }
  }

  /**
   * The first close only, when it happens (a close the connection made itself too): the
   * listener's open count, the ConnectionClosed event.
   */
  private void recordClose(String reason) {
    if (!closeRecorded.compareAndSet(false, true)) return;
    Runnable action = onClose;
    if (action != null) action.run();
    FerryEvents.connectionClosed(description, new long[] {counters.messagesSent(),
        counters.bytesSent(), counters.messagesReceived(), counters.bytesReceived()},
        System.nanoTime() - openedNanos, receiver.peerEnded() ? "peer" : "local", reason);
  }

  @Override
  public String toString() {
    return "Connection[" + description + (isClosed() ? ", closed" : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  @Override
  public byte[] receiveBytes() throws IOException {
    return receiver.receiveBytes(maxMessageSize, Deadlines.NONE);
  }

  @Override
  public byte[] receiveBytes(int maxLength) throws IOException {
    if (maxLength < 0) throw new IllegalArgumentException("negative maxlength: " + maxLength);
    return receiver.receiveBytes(Math.min(maxLength, maxMessageSize), Deadlines.NONE);
  }

  @Override
  public int receiveBytesInto(byte[] array, int offset) throws IOException {
    Objects.checkFromToIndex(offset, array.length, array.length);
    return receiveBytesInto(ByteBuffer.wrap(array, offset, array.length - offset));
  }

  @Override
  public int receiveBytesInto(ByteBuffer buffer) throws IOException {
    if (buffer.isReadOnly()) throw new IllegalArgumentException("read-only buffer: " + buffer);
    return receiver.receiveBytesInto(buffer, maxMessageSize);
  }

  @Override
  public long receiveTo(WritableByteChannel sink) throws IOException {
    Objects.requireNonNull(sink, "sink");
    return receiver.receiveTo(sink, maxMessageSize);
  }

  @Override
  public <T> T receive(Codec<T> codec) throws IOException {
    Objects.requireNonNull(codec, "codec");
    return receiver.receive(codec, maxMessageSize);
  }

  @Override
  public boolean poll() throws IOException {
    return receiver.poll(Deadlines.after(Duration.ZERO));
  }

  @Override
  public boolean poll(Duration timeout) throws IOException {
    Objects.requireNonNull(timeout, "timeout");
    return receiver.poll(Deadlines.after(timeout));
  }

  @Override
  public void awaitReadable() throws IOException {
    receiver.poll(Deadlines.NONE);
  }

  /**
   * For the accept loop's handshakes: reads what has arrived without waiting and returns one whole
   * message of at most {@code maxLength} bytes if it is there, or null if it is not complete yet.
   */
  public byte[] receiveNow(int maxLength) throws IOException {
    return receiver.receiveNow(maxLength, false);
  }

  /**
   * As {@link #receiveNow(int)}, for a caller whose selector has just reported this socket
   * readable: then a read that finds nothing means end of stream (junixsocket's non-blocking read
   * returns 0 there, not -1). Without this, a Unix peer that closes with half a frame sent, or
   * with nothing sent, stays readable forever and its selector spins.
   */
  public byte[] receiveNow(int maxLength, boolean reportedReadable) throws IOException {
    return receiver.receiveNow(maxLength, reportedReadable);
  }

  /**
   * As {@link #receiveNow(int, boolean)}, reading through the accept loop's {@code scratch}: a
   * connection whose handshake ran there is left without a direct buffer of its own, which would
   * otherwise wait for a garbage collection to give its native memory back.
   */
  public byte[] receiveNow(int maxLength, boolean reportedReadable, ByteBuffer scratch)
      throws IOException {
    return receiver.receiveNow(maxLength, reportedReadable, scratch);
  }

  /**
   * Sends a handshake message from a heap frame of its own, so that the connection allocates no
   * direct send buffer for it (a few hundred bytes once, not a hot path).
   */
  public void sendHandshakeMessage(byte[] message) throws IOException {
    ByteBuffer frame = ByteBuffer.allocate(Frames.SHORT_HEADER + message.length);
    sender.sendFrame(frame.putInt(message.length).put(message).flip());
  }

  // ---------------------------------------------------------------------------------------------
  // Wait sets: hooks, and looking at input without a receive

  /** Calls {@code watcher} after receives that leave input buffered, and on close. */
  public void addWaitWatcher(Runnable watcher) {
    receiver.watchers().add(watcher);
  }

  /** Stops calling {@code watcher}: its wait set no longer holds this connection. */
  public void removeWaitWatcher(Runnable watcher) {
    receiver.watchers().remove(watcher);
  }

  /** Whether an event loop receives for this connection: blocking receives and waits refuse. */
  public boolean receivesAsynchronously() {
    return receiver.receivesAsynchronously();
  }

  /**
   * Whether bytes or end of stream are already buffered, here or inside the transport (TLS
   * plaintext already decrypted), so that {@code Wait} need not select: the socket's readiness
   * would not announce them. False, without looking, while a receive holds the connection.
   */
  public boolean hasBufferedInput() {
    return receiver.hasBufferedInput();
  }

  /**
   * For a wait set whose selector reported this socket: reads what has arrived into the
   * read-ahead buffer without waiting, and tells whether a receive would now not block (bytes or
   * the end of the stream buffered, or the connection closed or write-only). {@code
   * readsWhenWatched} is {@link #readCount()} from when the selector began watching the socket
   * (see {@link FrameReader#readAhead}). A socket error found here reads as the end of the stream.
   * Returns false, without looking, while a receive holds the connection or the thread is
   * interrupted: the caller then watches the socket again.
   */
  public boolean readAhead(long readsWhenWatched) {
    return receiver.readAhead(readsWhenWatched);
  }

  /** See {@link SocketTransport#readCount()}. */
  public long readCount() {
    return transport.readCount();
  }

  /** The selector provider that can register this connection's socket. */
  public SelectorProvider selectorProvider() {
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

  // ---------------------------------------------------------------------------------------------
  // Sending

  @Override
  public void sendBytes(byte[] bytes) throws IOException {
    sender.sendBytes(ByteBuffer.wrap(bytes));
  }

  @Override
  public void sendBytes(byte[] bytes, int offset, int size) throws IOException {
    Objects.checkFromIndexSize(offset, size, bytes.length);
    sender.sendBytes(ByteBuffer.wrap(bytes, offset, size));
  }

  @Override
  public void sendBytes(ByteBuffer buffer) throws IOException {
    sender.sendBytes(buffer);
  }

  @Override
  public void sendFrom(ReadableByteChannel source, long size) throws IOException {
    Objects.requireNonNull(source, "source");
    if (size < 0) throw new IllegalArgumentException("size < 0: " + size);
    if (size > maxSendSize) throw tooLongToSend(size);
    sender.sendFrom(source, size);
  }

  @Override
  public <T> void send(T value, Codec<? super T> codec) throws IOException {
    Objects.requireNonNull(codec, "codec");
    MessageOutput message = new MessageOutput();
    codec.encode(value, message);
    sender.sendFrame(message.toFrame());
  }

  /**
   * Drops the buffers the handshake allocated, where nothing is in them and no other thread holds
   * them: an idle authenticated connection then costs no native memory. The next receive or send
   * allocates its buffer again.
   */
  public void trimBuffers() {
    sender.trimBuffer();
    receiver.trim();
  }

  // ---------------------------------------------------------------------------------------------
  // Handshake access: framed messages with a deadline, for the authentication code.

  /** This connection as the handshake code sees it: whole messages, receives bounded by {@code deadline}. */
  public HandshakeChannel handshakeChannel(long deadline) {
    return new HandshakeChannel() {
      @Override
      public void sendMessage(byte[] message) throws IOException {
        sendHandshakeMessage(message);
      }

      @Override
      public byte[] receiveMessage(int maxLength) throws IOException {
        return receiver.receiveBytes(maxLength, deadline);
      }
    };
  }

  /** Descriptor passing over this connection, for {@code dev.ferry.handle} (Unix sockets only). */
  public DescriptorChannel descriptors() {
    return descriptors;
  }

  // ---------------------------------------------------------------------------------------------
  // Event loop access (dev.ferry.async): non-blocking framing for one loop thread.

  @Override
  public SocketChannel channel() {
    return transport.channel();
  }

  @Override
  public void claimAsync(boolean receive) {
    receiver.claimAsync(receive);
  }

  /**
   * Reads through the loop's {@code scratch} buffer instead of a buffer of this connection's own,
   * so that an idle connection holds no receive buffer: bytes left over (frames nobody asked for
   * yet, or part of a header) move to an exact-size heap buffer until the next call.
   */
  @Override
  public byte[] receiveAvailable(long limit, boolean selected, boolean hungUp, ByteBuffer scratch)
      throws IOException {
    return receiver.receiveAvailable(limit, selected, hungUp, scratch);
  }

  @Override
  public long transferAvailable(long limit, WritableByteChannel sink, boolean selected,
      boolean hungUp, ByteBuffer scratch) throws IOException {
    return receiver.transferAvailable(limit, sink, selected, hungUp, scratch);
  }

  @Override
  public void addCloseWatcher(Runnable watcher) {
    receiver.watchers().add(watcher);
  }

  @Override
  public void removeCloseWatcher(Runnable watcher) {
    receiver.watchers().remove(watcher);
  }

  @Override
  public void abandonStream() {
    receiver.abandonStream();
  }

  @Override
  public boolean tryLockSend() {
    return sender.tryLockForLoop();
  }

  @Override
  public void unlockSend() {
    sender.unlock();
  }

  @Override
  public int writeNow(ByteBuffer frame) throws IOException {
    sender.checkWritable();
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

  @Override
  public void countSent(int messages, long bytes) {
    sender.countSent(messages, bytes);
  }

  @Override
  public void reportQueuedBytes(LongSupplier queuedBytes) {
    asyncQueuedBytes = queuedBytes;
  }

  @Override
  public void trimSendBuffer() {
    sender.trimBuffer();
  }
}
