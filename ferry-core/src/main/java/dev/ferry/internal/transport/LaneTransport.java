package dev.ferry.internal.transport;

import dev.ferry.ConnectionClosedException;
import dev.ferry.FramingException;
import dev.ferry.internal.lane.LaneRegion;
import dev.ferry.internal.lane.Ring;
import dev.ferry.internal.lane.SpinPacer;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A Unix socket whose bytes, once both ends agreed, travel through a shared-memory lane: one ring
 * per direction (docs/LANE.md). Until {@link #useLane} it is the plain socket underneath; after it,
 * every stream byte goes through the rings and the socket carries only doorbell bytes, descriptor
 * records and the peer's end. The frame reader, wait sets and event loops see no difference: they
 * register the socket ({@link #channel()}), and {@link #hasBufferedInput()} tells them about bytes
 * waiting in the ring, which the socket's readiness does not announce.
 *
 * <p>Receiving: take what the ring holds; else spin (not armed: the writer skips the bell), then
 * yield, for the budgets given; then arm, look once more, and wait for the socket, whose bell, end
 * or record wakes us. Sending: copy into the ring and publish; ring the bell if the reader is
 * armed and had caught up; a full ring is waited out by polling its head with a backoff, probing
 * the socket with a bell now and then to learn of a dead peer.
 *
 * <p>Threading as {@link Transport}: one reader and one writer at a time, close from anywhere.
 */
public final class LaneTransport implements Transport {
  private static final byte BELL = 0;
  private static final byte RECORD = 'D';
  private static final int RECORD_LENGTH = 9;
  /** More unclaimed descriptor records than this is a peer flooding us. */
  private static final int MAX_RECORDS = 1024;
  /** Writer's wait while the ring is full: yields this long at least, then sleeps from, to. */
  private static final long MIN_YIELD_NANOS = 100_000;
  /** How long a reader waits for a bell the writer counted but has not sent yet. */
  private static final long BELL_PATIENCE_NANOS = 10_000_000;
  private static final long MAX_BELL_LAG = 1 << 20;

  private final SocketTransport socket;
  private final long spinNanos;
  private final long yieldNanos;

  /**
   * A keyless server's look at the first bytes ({@link #peekFirst}): served before the socket's
   * while the stream stays plain. Read lock's.
   */
  private ByteBuffer peeked;

  /** The rings once switched; null while the socket carries the stream. */
  private volatile Lane lane;

  private volatile boolean closed;
  /** Set once an access to the region faulted: close then leaves the region alone. */
  private volatile boolean faulted;

  /** Read lock's: lane reads that took bytes, whether the peer's socket ended, partial record. */
  private long laneReads;
  private boolean peerGone;
  private final ByteBuffer items = ByteBuffer.allocateDirect(256);
  private final byte[] record = new byte[RECORD_LENGTH];
  private int recordFill;
  private long recordStart;
  /** Bells read from the socket, against the writer's count (LANE.md 5.5). */
  private long bellsDrained;

  /** Descriptors that came with records, by lane stream position; read lock's, and close's. */
  private final ReceivedDescriptors records = new ReceivedDescriptors();

  /** Send lock's. */
  private final ByteBuffer bell = ByteBuffer.allocateDirect(1).put(0, BELL); // never written again
  private final ByteBuffer recordOut = ByteBuffer.allocateDirect(RECORD_LENGTH);
  private long writeWaits;
  private final SpinPacer writePacer = new SpinPacer();
  /** Read lock's. */
  private final SpinPacer readPacer = new SpinPacer();

  private record Lane(Ring in, Ring out, long base) {}

  /**
   * A transport over a Unix {@code socket}, plain until {@link #useLane}. A receive spins
   * {@code spinNanos}, then yields {@code yieldNanos}, before it sleeps on the socket.
   */
  public LaneTransport(SocketTransport socket, long spinNanos, long yieldNanos) {
    if (!socket.passesDescriptors()) throw new IllegalArgumentException("a lane needs a unix socket");
    this.socket = socket;
    this.spinNanos = spinNanos;
    this.yieldNanos = yieldNanos;
  }

  /**
   * Switches to the rings of {@code region}: this end writes ring {@code writeRing} and reads the
   * other. Call with no read or write in progress, after the last plain byte was read (the
   * stream positions continue from the socket's), and before the peer's first lane byte could be
   * needed; arms this end's reading ring.
   */
  public void useLane(ByteBuffer region, int capacity, int writeRing) {
    Ring in = LaneRegion.ring(region, 1 - writeRing, capacity);
    Ring out = LaneRegion.ring(region, writeRing, capacity);
    in.arm(true);
    lane = new Lane(in, out, socket.bytesRead());
  }

  /** Whether the rings carry the stream. */
  public boolean usesLane() {
    return lane != null;
  }

  /** The socket underneath, for the plain steps of a lane's setup. */
  public SocketTransport socket() {
    return socket;
  }

  @Override
  public SocketChannel channel() {
    return socket.channel();
  }

  @Override
  public boolean isClosed() {
    return closed || socket.isClosed();
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /**
   * Reads, without waiting, up to {@code count} first bytes of a plain stream, which later reads
   * return again (LANE.md 1.2: a keyless server looks for an offer). Returns those read so far,
   * or null once the stream ended, even after some: the ended socket stays readable, and a caller
   * waiting for the rest would be woken for nothing until its timeout.
   */
  public byte[] peekFirst(int count) throws IOException {
    if (peeked == null) peeked = ByteBuffer.allocate(count).flip();
    int had = peeked.limit();
    peeked.limit(count).position(had);
    int n = socket.readNow(peeked);
    if (n == 0 && peeked.hasRemaining() && socket.awaitReadable(System.nanoTime() - 1)) {
      n = socket.readNow(peeked);
      if (n == 0) n = -1; // readable with nothing to read: junixsocket's end of stream
    }
    peeked.flip();
    if (n < 0) return null;
    byte[] first = new byte[peeked.remaining()];
    peeked.get(0, first);
    return first;
  }

  /** Forgets what {@link #peekFirst} read: it was a lane offer, consumed. */
  public void dropPeeked() {
    peeked = null;
  }

  private int takePeeked(ByteBuffer dst) {
    int n = Math.min(peeked.remaining(), dst.remaining());
    dst.put(dst.position(), peeked, peeked.position(), n).position(dst.position() + n);
    peeked.position(peeked.position() + n);
    if (!peeked.hasRemaining()) peeked = null;
    return n;
  }

  @Override
  public int readWithin(ByteBuffer dst, long deadline) throws IOException {
    Lane l = lane;
    if (peeked != null) return takePeeked(dst);
    if (l == null) return socket.readWithin(dst, deadline);
    try {
      return readLane(l, dst, deadline);
    } catch (InternalError e) {
      throw faulted(e);
    }
  }

  private int readLane(Lane l, ByteBuffer dst, long deadline) throws IOException {
    int n = take(l, dst);
    if (n != 0 || !dst.hasRemaining()) return n;
    n = spin(l, dst, deadline);
    while (n == 0) {
      n = lookAgain(l, dst);
      if (n != 0) return n;
      // Armed, ring empty: the writer rings from now on. Bell, record, end or close wake us.
      if (!socket.awaitReadable(deadline)) return 0;
    }
    return n;
  }

  /**
   * The connection's receive spin, on the socket while plain; on a lane none: the ring's own spin
   * and yield come in {@link #readWithin}, and an empty ring's readNow costs system calls.
   */
  @Override
  public int spinRead(ByteBuffer dst, long spinNanos, long deadline) throws IOException {
    return lane == null && peeked == null ? socket.spinRead(dst, spinNanos, deadline) : 0;
  }

  @Override
  public int readLarge(ByteBuffer dst, long deadline) throws IOException {
    if (peeked != null) return takePeeked(dst);
    if (lane == null) return socket.readLarge(dst, deadline);
    return read(dst, deadline);
  }

  @Override
  public int readNow(ByteBuffer dst) throws IOException {
    Lane l = lane;
    if (peeked != null) return takePeeked(dst);
    if (l == null) return socket.readNow(dst);
    try {
      int n = take(l, dst);
      if (n != 0 || !dst.hasRemaining()) return n;
      return lookAgain(l, dst);
    } catch (InternalError e) {
      throw faulted(e);
    }
  }

  private int take(Lane l, ByteBuffer dst) throws IOException {
    checkOpen();
    int n = l.in.read(dst);
    if (n > 0) {
      laneReads++;
      if (l.in.bells() != bellsDrained) drainBells(l);
    }
    return n;
  }

  /**
   * Reads the bells the writer rang for bytes now taken: left in the socket, they would make
   * wait sets and event loops see a readiness with nothing behind it. A bell counted but still on
   * its way is waited for a moment (the writer counts it just before sending it). A count over
   * {@link #MAX_BELL_LAG} ahead is scribbled (LANE.md 7): what came is drained, nothing waited for.
   */
  private void drainBells(Lane l) throws IOException {
    long until = System.nanoTime() + BELL_PATIENCE_NANOS;
    for (long lag; !peerGone && (lag = l.in.bells() - bellsDrained) > 0; ) {
      if (drainSocket(l)) continue;
      long left = until - System.nanoTime();
      if (lag > MAX_BELL_LAG || left <= 0 || !socket.awaitReadable(System.nanoTime() + Math.min(left, 1_000_000))) return;
      if (!drainSocket(l) && socketEnded(l)) peerGone = true;
    }
  }

  /**
   * Spins, then yields, with the ring disarmed (the writer skips the bell while we watch), for the
   * budgets and no later than {@code deadline}; rearms before returning. A count or 0.
   */
  private int spin(Lane l, ByteBuffer dst, long deadline) throws IOException {
    if (spinNanos == 0 && yieldNanos == 0) return 0;
    long start = System.nanoTime();
    long left = deadline == Deadlines.NONE ? Long.MAX_VALUE : deadline - start;
    long spinEnd = Math.min(spinNanos, left);
    long yieldEnd = Math.min(spinNanos + yieldNanos, left);
    readPacer.start();
    l.in.arm(false);
    try {
      for (long spent = 0; spent < yieldEnd; spent = System.nanoTime() - start) {
        int n = take(l, dst);
        if (n != 0) return n;
        // The interrupt is the sleeping wait's to report; a closing writer's end, the socket's.
        if (Thread.currentThread().isInterrupted() || l.in.writerClosed()) return 0;
        // A killed peer's end (or a bell, a record) is on the socket: lookAgain reads it.
        if (readPacer.probeDue(spent) && socket.awaitReadable(System.nanoTime() - 1)) return 0;
        readPacer.pause(spent, spent < spinEnd);
      }
      return 0;
    } finally {
      l.in.arm(true);
    }
  }

  /**
   * The ring looked empty, with this end armed: drains the socket (bells, records, its end), then
   * looks again after a full fence (LANE.md 5.2). A count, 0 for nothing, -1 once the peer's end
   * came and the ring is drained.
   */
  private int lookAgain(Lane l, ByteBuffer dst) throws IOException {
    if (!peerGone && !drainSocket(l) && socketEnded(l)) peerGone = true;
    l.in.arm(true);
    int n = take(l, dst);
    if (n != 0) return n;
    return peerGone ? -1 : 0;
  }

  /** Reads what the socket holds now; false if it held nothing (or only its end). */
  private boolean drainSocket(Lane l) throws IOException {
    boolean any = false;
    while (true) {
      items.clear();
      long at = socket.bytesRead();
      int n = socket.readNow(items);
      if (n < 0) {
        peerGone = true;
        return any;
      }
      if (n == 0) return any;
      any = true;
      items.flip();
      parseItems(l, at);
      if (n < items.capacity()) return true;
    }
  }

  /** junixsocket reads nothing both when nothing came and at the end: a readable socket is ended. */
  private boolean socketEnded(Lane l) throws IOException {
    if (!socket.awaitReadable(System.nanoTime() - 1)) return false;
    return !drainSocket(l);
  }

  private void parseItems(Lane l, long socketPosition) throws IOException {
    long at = socketPosition;
    while (items.hasRemaining()) {
      byte b = items.get();
      if (recordFill > 0) {
        record[recordFill++] = b;
        if (recordFill == RECORD_LENGTH) fileRecord(l);
      } else if (b == RECORD) {
        recordStart = at;
        record[0] = b;
        recordFill = 1;
      } else if (b == BELL) {
        bellsDrained++;
      } else {
        throw new FramingException("shared-memory lane: unexpected byte 0x"
            + Integer.toHexString(b & 0xff) + " on the socket");
      }
      at++;
    }
  }

  private void fileRecord(Lane l) throws IOException {
    recordFill = 0;
    long position = 0;
    for (int i = 1; i < RECORD_LENGTH; i++) position = position << 8 | (record[i] & 0xff);
    FileDescriptor[] fds = socket.takeDescriptors(recordStart, recordStart + RECORD_LENGTH);
    if (fds.length > 0 && records.add(l.base + position, fds) > MAX_RECORDS) {
      records.closeAll();
      throw new FramingException("shared-memory lane: over " + MAX_RECORDS
          + " unclaimed descriptor records");
    }
  }

  @Override
  public boolean emptyReadWhenReadableIsEnd() {
    // After a switch a readable socket may hold only bells: readNow itself says when it ended.
    return lane == null && socket.emptyReadWhenReadableIsEnd();
  }

  @Override
  public boolean hasBufferedInput() throws IOException {
    Lane l = lane;
    if (peeked != null) return true;
    if (l == null) return socket.hasBufferedInput();
    try {
      return peerGone || l.in.available() > 0;
    } catch (InternalError e) {
      throw faulted(e);
    }
  }

  @Override
  public long readCount() {
    return socket.readCount() + laneReads;
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  @Override
  public void prepareWrite(long size) {
    if (lane == null) socket.prepareWrite(size);
  }

  @Override
  public void writeFully(ByteBuffer head, ByteBuffer body) throws IOException {
    if (lane == null) {
      socket.writeFully(head, body);
      return;
    }
    writeFully(head);
    writeFully(body);
  }

  @Override
  public void writeFully(ByteBuffer src) throws IOException {
    Lane l = lane;
    if (l == null) {
      socket.writeFully(src);
      return;
    }
    try {
      writeLane(l, src);
    } catch (InternalError e) {
      throw faulted(e);
    }
  }

  private void writeLane(Lane l, ByteBuffer src) throws IOException {
    long fullSince = 0; // when the ring was found full, 0 while it has room
    while (src.hasRemaining()) {
      checkOpen();
      // Once full, wait for a quarter of the ring (or the rest) to free up: refilling each few
      // bytes the reader takes would cost a publish and its fence per few bytes.
      if ((fullSince == 0 || roomFor(l, src.remaining())) && publish(l, src) > 0) {
        fullSince = 0;
      } else {
        if (fullSince == 0) {
          fullSince = System.nanoTime();
          writePacer.start();
        }
        awaitRoom(System.nanoTime() - fullSince);
      }
    }
  }

  private static boolean roomFor(Lane l, int remaining) throws IOException {
    int capacity = l.out.capacity();
    return capacity - l.out.readerLag() >= Math.min(remaining, capacity / 4);
  }

  private int publish(Lane l, ByteBuffer src) throws IOException {
    int n = l.out.write(src);
    if (l.out.bellDue()) {
      l.out.countBell();
      bell.clear();
      socket.writeFully(bell);
    }
    return n;
  }

  /**
   * The ring has been full for {@code waited} ns: spins, then yields, for the receive budgets (at
   * least {@link #MIN_YIELD_NANOS}: a reader that drains the ring takes about that), then sleeps
   * ({@link SpinPacer#sleep}). Each millisecond of it, spinning, yielding or sleeping (up to a
   * second of budgets), it sends a bell, which fails once the peer is gone.
   */
  private void awaitRoom(long waited) throws IOException {
    writeWaits++;
    if (writePacer.probeDue(waited)) probe();
    if (waited < Math.max(MIN_YIELD_NANOS, spinNanos + yieldNanos)) {
      writePacer.pause(waited, waited < spinNanos);
    } else {
      writePacer.sleep(waited);
    }
  }

  /** A bell (harmless: it only says "look") whose send fails once the peer is gone. */
  private void probe() throws IOException {
    bell.clear();
    // Counted once sent: a full socket means the peer has bells to read anyway.
    if (socket.writeNow(bell) == 1) lane.out.countBell();
  }

  @Override
  public long writeWaits() {
    return socket.writeWaits() + writeWaits;
  }

  /**
   * Publishes what the ring takes now. Once a write found it full, as in {@link #writeLane}, the
   * next takes nothing until a quarter of the ring (or the rest of {@code src}) is free: an event
   * loop refilling each few bytes the reader takes would publish, fence and maybe ring per few
   * bytes, where a socket's writability waits for room in the same way.
   */
  @Override
  public int writeNow(ByteBuffer src) throws IOException {
    Lane l = lane;
    if (l == null) return socket.writeNow(src);
    checkOpen();
    try {
      if (outFull && !roomFor(l, src.remaining())) return 0;
      int wanted = src.remaining();
      int n = publish(l, src);
      outFull = n < wanted;
      return n;
    } catch (InternalError e) {
      throw faulted(e);
    }
  }

  /** Whether the last {@link #writeNow} left bytes the ring could not take. Writing thread's. */
  private boolean outFull;

  // ---------------------------------------------------------------------------------------------
  // Selectors, close

  @Override
  public SocketChannel pinNonBlocking() throws IOException {
    return socket.pinNonBlocking();
  }

  @Override
  public void unpinNonBlocking() {
    socket.unpinNonBlocking();
  }

  @Override
  public void close() throws IOException {
    if (closed) return;
    closed = true;
    Lane l = lane;
    try {
      if (l != null && !faulted) l.out.markClosed();
      socket.close();
    } catch (InternalError e) { // markClosed's fault, maybe delivered late (see faulted)
      faulted = true;
      socket.close(); // the peer learns of our end from the socket's
    } finally {
      records.closeAll();
    }
  }

  /**
   * The peer shrank the region's file under our mapping (unsealed: JDK 17's, a hostile peer's);
   * the JVM turned the SIGBUS into an InternalError, in compiled code a little after the access.
   * Closes, never touching the region again, and reports it as any bad ring.
   */
  private FramingException faulted(InternalError e) {
    faulted = true;
    try {
      close();
    } catch (IOException | InternalError ignored) { // best effort: the fault is the news
    }
    FramingException f = new FramingException(
        "shared-memory lane: the shared memory faulted (its file shrank under the mapping)");
    f.initCause(e);
    return f;
  }

  private void checkOpen() throws ConnectionClosedException {
    if (closed) throw new ConnectionClosedException("connection is closed");
  }

  // ---------------------------------------------------------------------------------------------
  // Descriptors: on the socket, each batch on a record naming its ring stream position (LANE.md 8)

  @Override
  public boolean passesDescriptors() {
    return true;
  }

  @Override
  public long bytesRead() {
    Lane l = lane;
    ByteBuffer p = peeked;
    if (l == null) return socket.bytesRead() - (p == null ? 0 : p.remaining());
    return l.base + l.in.consumed();
  }

  @Override
  public FileDescriptor[] takeDescriptors(long from, long to) {
    Lane l = lane;
    if (l == null) return socket.takeDescriptors(from, to);
    try {
      drainSocket(l); // a record leaves before the bytes it names are published
    } catch (IOException e) {
      // The read that follows meets it again and reports it.
    }
    return records.take(from, to);
  }

  @Override
  public void discardDescriptorsBefore(long position) {
    if (lane == null) {
      socket.discardDescriptorsBefore(position);
      return;
    }
    records.discardBefore(position);
  }

  @Override
  public void writeFully(ByteBuffer src, FileDescriptor[] fds) throws IOException {
    Lane l = lane;
    if (l == null) {
      socket.writeFully(src, fds);
      return;
    }
    checkOpen();
    recordOut.clear();
    recordOut.put(RECORD).putLong(l.out.published()).flip();
    socket.writeFully(recordOut, fds);
    writeFully(src);
  }

  @Override
  public void keepPeerCopiesOnClose() {
    if (lane != null) throw new UnsupportedOperationException(LANE_STAYS);
    socket.keepPeerCopiesOnClose();
  }

  @Override
  public FileDescriptor fileDescriptor() throws IOException {
    if (lane != null) throw new UnsupportedOperationException(LANE_STAYS);
    return socket.fileDescriptor();
  }

  private static final String LANE_STAYS =
      "a shared-memory lane connection cannot be passed to another process";
}
