package dev.ferry.internal.transport;

import dev.ferry.ConnectionClosedException;
import dev.ferry.TlsHandshakeException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;

/**
 * TLS over a {@link SocketTransport}: an {@link SSLEngine} on the same non-blocking socket, so that
 * selectors ({@code Wait}, event loops, the accept loop) watch the socket as for plain TCP.
 *
 * <pre>
 *   socket --read--> netIn (ciphertext) --unwrap--> appIn (plaintext) --> caller
 *   caller --wrap--> netOut (ciphertext) --write--> socket
 * </pre>
 *
 * <p>Readiness: the socket's readiness does not announce plaintext already decrypted into
 * {@code appIn}, nor whole records read but not yet decrypted; {@link #hasBufferedInput()} does,
 * and the connection's own readiness checks ask it before selecting.
 *
 * <p>End of stream: the peer's close_notify, and also a TCP end without one. Messages are framed
 * with their length, so a cut inside a message is still reported as a truncated message by the
 * framing; a cut at a message boundary looks like a close, as it does on plain TCP. CPython's
 * {@code ssl} sockets close without close_notify unless {@code unwrap()} is called first, so
 * requiring it would turn every Python close into an error.
 *
 * <p>Threading as {@link Transport}: one reader and one writer at a time. The writer's state (the
 * engine's wrap side and {@code netOut}) sits under {@code outLock}, because the reader also wraps
 * when a post-handshake message asks for an answer (a TLS 1.3 KeyUpdate): it does so only if the
 * lock is free, and otherwise leaves it to the writer's next wrap, which sends it first.
 */
public final class TlsTransport implements Transport {
  /** Returned by {@link #handshakeStep()}: what the handshake waits for. */
  public enum Step {
    DONE,
    NEEDS_READ,
    NEEDS_WRITE
  }

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  /** Records per socket write, and per read, once the handshake is over. */
  private static final int RECORDS_PER_IO = 4;

  private final SocketTransport socket;
  private final SSLEngine engine;
  /** "with tcp:host:port" or "on tcp:host:port", for messages. */
  private final String where;

  // Reading thread only (the handshake runs before anyone else sees the connection).
  /** Ciphertext read and not yet decrypted, in read mode. */
  private ByteBuffer netIn;
  /** Plaintext decrypted and not yet taken, in read mode. */
  private ByteBuffer appIn;
  private boolean inboundDone;
  private SSLException readFailure;

  // Guarded by outLock.
  private final ReentrantLock outLock = new ReentrantLock();
  /** Ciphertext waiting for the socket, in write mode: bytes 0..position wait. */
  private ByteBuffer netOut;

  /** Written under outLock; read by the writing thread's hasPendingOutput. */
  private volatile boolean pendingOutput;

  private volatile boolean handshakeDone;

  private TlsTransport(SocketChannel channel, SSLEngine engine, String where) throws IOException {
    this.socket = new SocketTransport(channel);
    socket.pinNonBlocking(); // for good: the engine's reads and writes must never block
    this.engine = engine;
    this.where = where;
    int packet = engine.getSession().getPacketBufferSize();
    this.netIn = ByteBuffer.allocate(packet).flip();
    this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
    this.netOut = ByteBuffer.allocate(packet);
  }

  /**
   * The client end on a connected channel: verifies that the server's certificate names
   * {@code serverName} (a host name or an IP address literal, checked as HTTPS does) and sends it
   * as SNI when it is a host name.
   */
  public static TlsTransport client(SocketChannel channel, SSLContext context, String serverName,
      int port, String address) throws IOException {
    SSLEngine engine = context.createSSLEngine(serverName, port);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    if (isHostName(serverName)) parameters.setServerNames(List.of(new SNIHostName(serverName)));
    engine.setSSLParameters(parameters);
    return start(channel, engine, "with " + address);
  }

  /** The server end on an accepted channel; with {@code needClientAuth}, clients must show a certificate. */
  public static TlsTransport server(SocketChannel channel, SSLContext context,
      boolean needClientAuth, String address) throws IOException {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    if (needClientAuth) engine.setNeedClientAuth(true);
    return start(channel, engine, "on " + address);
  }

  private static TlsTransport start(SocketChannel channel, SSLEngine engine, String where)
      throws IOException {
    try {
      engine.beginHandshake();
    } catch (SSLException e) {
      throw new TlsHandshakeException("tls handshake " + where + " failed: " + e.getMessage(), e);
    }
    return new TlsTransport(channel, engine, where);
  }

  private static boolean isHostName(String name) {
    // SNI carries host names only: not IPv4 or IPv6 literals.
    if (name.indexOf(':') >= 0) return false;
    return !name.matches("[0-9.]+") && !name.endsWith(".");
  }

  @Override
  public SocketChannel channel() {
    return socket.channel();
  }

  @Override
  public boolean isClosed() {
    return socket.isClosed();
  }

  @Override
  public SocketChannel pinNonBlocking() throws IOException {
    return socket.pinNonBlocking();
  }

  @Override
  public void unpinNonBlocking() {
    socket.unpinNonBlocking();
  }

  @Override
  public long readCount() {
    return socket.readCount();
  }

  @Override
  public boolean emptyReadWhenReadableIsEnd() {
    return false;
  }

  // ---------------------------------------------------------------------------------------------
  // Handshake

  /**
   * Advances the handshake as far as it goes without waiting. The accept loop and the event loops
   * call it whenever the socket is ready for what it last asked for.
   *
   * @throws TlsHandshakeException if the handshake failed; the alert, if any, is sent first when
   *     the socket takes it at once
   */
  public Step handshakeStep() throws IOException {
    if (handshakeDone) return Step.DONE;
    try {
      while (true) {
        if (!flushOut()) return Step.NEEDS_WRITE;
        switch (engine.getHandshakeStatus()) {
          case NOT_HANDSHAKING, FINISHED -> {
            handshakeDone = true;
            growBuffers();
            return Step.DONE;
          }
          case NEED_TASK -> runTasks();
          case NEED_WRAP -> wrapHandshake();
          case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
            if (!unwrapHandshake()) return Step.NEEDS_READ;
          }
        }
      }
    } catch (SSLException e) {
      sendAlertQuietly();
      throw handshakeFailure(e);
    }
  }

  /** Runs the whole handshake, waiting on the socket until {@code deadline}. */
  public void handshake(long deadline) throws IOException {
    while (true) {
      Step step = handshakeStep();
      if (step == Step.DONE) return;
      boolean ready = step == Step.NEEDS_READ
          ? socket.awaitReadable(deadline) : socket.awaitWritable(deadline);
      if (!ready) throw new SocketTimeoutException("tls handshake timed out " + where);
    }
  }

  public boolean isHandshakeDone() {
    return handshakeDone;
  }

  private TlsHandshakeException handshakeFailure(SSLException e) {
    return new TlsHandshakeException("tls handshake " + where + " failed: " + e.getMessage(), e);
  }

  private void wrapHandshake() throws IOException {
    outLock.lock();
    try {
      SSLEngineResult r = engine.wrap(EMPTY, netOut);
      switch (r.getStatus()) {
        case BUFFER_OVERFLOW -> makeRoomOut();
        case CLOSED -> {
          flushOut(); // the alert that closed it
          throw new SSLHandshakeException("the handshake was closed");
        }
        default -> {}
      }
      pendingOutput = netOut.position() > 0;
    } finally {
      outLock.unlock();
    }
  }

  /** Unwraps one handshake record; false if more bytes must come from the socket first. */
  private boolean unwrapHandshake() throws IOException {
    SSLEngineResult r = unwrap(appIn);
    switch (r.getStatus()) {
      case BUFFER_UNDERFLOW -> {
        int n = readSocket();
        if (n < 0) {
          throw new SSLHandshakeException("the peer closed the connection during the handshake"
              + " (is it speaking tls?)");
        }
        return n > 0;
      }
      case BUFFER_OVERFLOW -> {
        appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
        return true;
      }
      case CLOSED -> throw new SSLHandshakeException("the peer closed the tls session during the"
          + " handshake");
      default -> {
        return true;
      }
    }
  }

  /** Unwraps from netIn into {@code target} (appIn in read mode, or a caller's buffer). */
  private SSLEngineResult unwrap(ByteBuffer target) throws SSLException {
    boolean intoAppIn = target == appIn;
    if (intoAppIn) appIn.compact();
    try {
      SSLEngineResult r = engine.unwrap(netIn, target);
      if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) runTasks();
      return r;
    } finally {
      if (intoAppIn) appIn.flip();
    }
  }

  private void runTasks() {
    Runnable task;
    while ((task = engine.getDelegatedTask()) != null) task.run();
  }

  /** Reads ciphertext from the socket into netIn; the count, 0 for none yet, -1 at end. */
  private int readSocket() throws IOException {
    if (netIn.limit() == netIn.capacity() && netIn.position() == 0) {
      netIn = grow(netIn, engine.getSession().getPacketBufferSize()); // a record larger than netIn
    }
    netIn.compact();
    try {
      return socket.readNow(netIn);
    } finally {
      netIn.flip();
    }
  }

  /** After the handshake: buffers that hold a few records, so that one system call moves several. */
  private void growBuffers() {
    int packet = engine.getSession().getPacketBufferSize();
    if (netIn.capacity() < RECORDS_PER_IO * packet) {
      netIn = ByteBuffer.allocate(RECORDS_PER_IO * packet).put(netIn).flip();
    }
    outLock.lock();
    try {
      if (netOut.capacity() < RECORDS_PER_IO * packet) {
        netOut = ByteBuffer.allocate(RECORDS_PER_IO * packet).put(netOut.flip());
      }
    } finally {
      outLock.unlock();
    }
  }

  /** A buffer in read mode holding {@code b}'s unread bytes with room for {@code extra} more. */
  private static ByteBuffer grow(ByteBuffer b, int extra) {
    return ByteBuffer.allocate(b.remaining() + Math.max(extra, b.capacity())).put(b).flip();
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  @Override
  public int readWithin(ByteBuffer dst, long deadline) throws IOException {
    while (true) {
      int n = readNow(dst);
      if (n != 0) return n;
      // Readable may mean half a record, or a record with no data in it (a session ticket).
      if (!socket.awaitReadable(deadline)) return 0;
    }
  }

  @Override
  public int readNow(ByteBuffer dst) throws IOException {
    checkOpen();
    if (readFailure != null) throw readError(readFailure);
    int total = 0;
    boolean readFromSocket = false;
    try {
      while (dst.hasRemaining()) {
        if (appIn.hasRemaining()) {
          total += copy(appIn, dst);
          continue;
        }
        if (inboundDone) break;
        // Large reads decrypt straight into the caller's buffer, skipping a copy.
        boolean direct = dst.remaining() >= appIn.capacity();
        int before = dst.position();
        SSLEngineResult r = unwrap(direct ? dst : appIn);
        if (direct) total += dst.position() - before;
        answerPostHandshake(r);
        switch (r.getStatus()) {
          case OK -> {
            // Nothing moved: the engine waits for a wrap that a busy writer will do.
            if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) return total;
          }
          case CLOSED -> {
            inboundDone = true; // close_notify
            continue;
          }
          case BUFFER_OVERFLOW -> {
            makeRoomForRecord(direct);
            continue;
          }
          case BUFFER_UNDERFLOW -> {
            // One system call per read once something was produced: the caller comes back.
            if (total > 0 && readFromSocket) return total;
            int n = readSocket();
            readFromSocket = true;
            if (n == 0) return total;
            if (n < 0) endOfStream();
          }
        }
      }
    } catch (SSLException e) {
      readFailure = e;
      sendAlertQuietly();
      if (total > 0) return total; // the failure comes with the next read
      throw readError(e);
    }
    return total == 0 && inboundDone ? -1 : total;
  }

  /**
   * The next record did not fit where it was to be decrypted: grow {@code appIn}, or, when it was
   * to go straight into the caller's buffer, decrypt it into {@code appIn} instead.
   */
  private void makeRoomForRecord(boolean direct) throws IOException {
    int size = engine.getSession().getApplicationBufferSize();
    if (!direct) {
      appIn = grow(appIn, size);
      return;
    }
    if (appIn.capacity() < size) appIn = grow(appIn, size);
    SSLEngineResult again = unwrap(appIn);
    answerPostHandshake(again);
    if (again.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
      appIn = grow(appIn, size);
    } else if (again.getStatus() == SSLEngineResult.Status.CLOSED) {
      inboundDone = true;
    }
  }

  private IOException readError(SSLException e) {
    if (e instanceof SSLHandshakeException) return handshakeFailure(e); // e.g. refused late (1.3)
    return new SSLException("tls " + where + " failed: " + e.getMessage(), e);
  }

  /** The peer's TCP stream ended without close_notify: taken as the end of the stream too. */
  private void endOfStream() {
    inboundDone = true;
    try {
      engine.closeInbound();
    } catch (SSLException e) {
      // "possible truncation attack": the framing above reports a message cut short.
    }
  }

  /**
   * A post-handshake message may want an answer (a KeyUpdate asking for ours): wrap and send it
   * now if no writer is at work, else the writer's next wrap sends it ahead of its data.
   */
  private void answerPostHandshake(SSLEngineResult r) throws IOException {
    HandshakeStatus status = r.getHandshakeStatus();
    if (status == HandshakeStatus.NEED_TASK) {
      runTasks();
      status = engine.getHandshakeStatus();
    }
    if (status != HandshakeStatus.NEED_WRAP || !outLock.tryLock()) return;
    try {
      while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
        SSLEngineResult w = engine.wrap(EMPTY, netOut);
        if (w.getStatus() != SSLEngineResult.Status.OK || w.bytesProduced() == 0) break;
      }
      flushOut();
    } finally {
      outLock.unlock();
    }
  }

  @Override
  public boolean hasBufferedInput() throws IOException {
    if (appIn.hasRemaining() || inboundDone || readFailure != null) return true;
    try {
      // Whole records already read: decrypt them, since no readiness will announce them.
      while (wholeRecordBuffered() && !appIn.hasRemaining() && !inboundDone) {
        SSLEngineResult r = unwrap(appIn);
        answerPostHandshake(r);
        switch (r.getStatus()) {
          case CLOSED -> inboundDone = true;
          case BUFFER_OVERFLOW -> appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
          case BUFFER_UNDERFLOW -> {
            return false;
          }
          case OK -> {
            if (r.bytesConsumed() == 0) return false;
          }
        }
      }
    } catch (SSLException e) {
      readFailure = e;
      return true; // a receive fails at once
    }
    return appIn.hasRemaining() || inboundDone;
  }

  /**
   * Whether netIn holds a whole TLS record.
   *
   * <pre>
   *   0      1         3            5
   *   +------+---------+------------+---------------------+
   *   | type | version | length BE  | fragment (length)   |
   *   +------+---------+------------+---------------------+
   * </pre>
   */
  private boolean wholeRecordBuffered() {
    if (netIn.remaining() < 5) return false;
    int length = netIn.getShort(netIn.position() + 3) & 0xffff;
    return netIn.remaining() >= 5 + length;
  }

  private static int copy(ByteBuffer from, ByteBuffer to) {
    int n = Math.min(from.remaining(), to.remaining());
    int limit = from.limit();
    from.limit(from.position() + n);
    to.put(from);
    from.limit(limit);
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  @Override
  public long writeWaits() {
    return socket.writeWaits();
  }

  @Override
  public void writeFully(ByteBuffer src) throws IOException {
    checkOpen();
    outLock.lock();
    try {
      while (true) {
        wrap(src);
        if (flushOut() && !src.hasRemaining()) return;
        if (netOut.position() > 0) socket.awaitWritable(Deadlines.NONE);
      }
    } catch (SSLException e) {
      throw writeError(e);
    } finally {
      outLock.unlock();
    }
  }

  @Override
  public int writeNow(ByteBuffer src) throws IOException {
    checkOpen();
    outLock.lock();
    try {
      int before = src.position();
      if (flushOut()) {
        wrap(src);
        flushOut();
      }
      return src.position() - before;
    } catch (SSLException e) {
      throw writeError(e);
    } finally {
      outLock.unlock();
    }
  }

  @Override
  public boolean hasPendingOutput() {
    return pendingOutput;
  }

  private IOException writeError(SSLException e) {
    return new SSLException("tls " + where + " failed: " + e.getMessage(), e);
  }

  /** Encrypts as much of {@code src} as netOut has room for. With outLock held. */
  private void wrap(ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      SSLEngineResult r = engine.wrap(src, netOut);
      switch (r.getStatus()) {
        case OK -> {
          if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) runTasks();
          if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) return;
        }
        case BUFFER_OVERFLOW -> {
          if (netOut.position() > 0) return; // full: flush first
          makeRoomOut();
        }
        case CLOSED -> throw new IOException("the tls session " + where
            + " is closed: the peer closed it or it failed");
        case BUFFER_UNDERFLOW -> throw new IllegalStateException("underflow on wrap");
      }
    }
    pendingOutput = netOut.position() > 0;
  }

  private void makeRoomOut() {
    int packet = engine.getSession().getPacketBufferSize();
    if (netOut.capacity() - netOut.position() < packet) {
      netOut = ByteBuffer.allocate(netOut.position() + packet).put(netOut.flip());
    }
  }

  /** Writes what the socket takes of netOut; true if nothing waits any more. With outLock held. */
  private boolean flushOut() throws IOException {
    if (netOut.position() == 0) return true;
    netOut.flip();
    try {
      socket.writeNow(netOut);
    } finally {
      netOut.compact();
      pendingOutput = netOut.position() > 0;
    }
    return netOut.position() == 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Closing

  private void checkOpen() throws ConnectionClosedException {
    if (socket.isClosed()) throw new ConnectionClosedException("connection is closed");
  }

  /** After a failure: sends the alert the engine prepared, if the socket takes it at once. */
  private void sendAlertQuietly() {
    if (!outLock.tryLock()) return;
    try {
      while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
        SSLEngineResult r = engine.wrap(EMPTY, netOut);
        if (r.bytesProduced() == 0) break;
      }
      flushOut();
    } catch (IOException | RuntimeException e) {
      // The connection is failing anyway; the peer sees the close without the alert.
    } finally {
      outLock.unlock();
    }
  }

  /**
   * Reads out, without waiting, what has arrived and nobody will read: a TLS 1.3 server sends
   * session tickets that a client which only sends never reads, and closing a socket with unread
   * bytes makes the kernel reset the connection instead of ending it, which can make the peer
   * lose the last messages this side sent before it reads them.
   */
  private void discardUnread() {
    ByteBuffer scratch = ByteBuffer.allocate(4096);
    try {
      for (int i = 0; i < 16 && socket.channel().read(scratch.clear()) > 0; i++) {
        // Only the kernel's buffer matters; the bytes are dropped.
      }
    } catch (IOException | RuntimeException e) {
      // Closing anyway.
    }
  }

  /**
   * Sends close_notify if the socket takes it at once and no writer is at work, then closes the
   * socket and wakes any thread waiting on it. Idempotent.
   */
  @Override
  public void close() throws IOException {
    if (socket.isClosed()) return;
    discardUnread();
    if (outLock.tryLock()) {
      try {
        if (handshakeDone && !pendingOutput) {
          engine.closeOutbound();
          sendAlertQuietly(); // close_notify: reentrant lock
        }
      } finally {
        outLock.unlock();
      }
    }
    socket.close();
  }
}
