package dev.ferry.internal.connection;

import dev.ferry.ConnectionOptions;
import dev.ferry.FramingException;
import dev.ferry.SharedMemoryLane;
import dev.ferry.internal.lane.LaneRegion;
import dev.ferry.internal.memory.SharedMemory;
import dev.ferry.internal.transport.LaneTransport;
import dev.ferry.internal.transport.ReceivedDescriptors;
import dev.ferry.internal.transport.SocketTransport;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Sets up a shared-memory lane over a Unix socket (docs/LANE.md section 2): the client's OFFER
 * with the region's descriptor, the server's checks and its REPLY, and a pipe's direct setup.
 * Any doubt on the server's side refuses the lane; the connection then stays a plain socket.
 */
public final class LaneSetup {
  private static final byte[] MAGIC = "#FERRY-LANE#".getBytes(StandardCharsets.US_ASCII);
  private static final byte VERSION = 1;
  private static final byte OFFER = 'O';
  private static final byte ACCEPT = 'A';
  private static final byte REFUSE = 'R';
  private static final int OFFER_LENGTH = 24;
  private static final int REPLY_LENGTH = 16;
  private static final int MAX_REASON = 200;

  /**
   * The OFFER frame's first bytes, the same in every offer: header, magic, version, kind. They are
   * what {@link #announce} sends ahead and what a keyless listener recognises an offer by.
   */
  private static final byte[] OFFER_START = ByteBuffer.allocate(4 + 14)
      .putInt(OFFER_LENGTH).put(MAGIC).put(VERSION).put(OFFER).array();

  private static final System.Logger LOG = System.getLogger(LaneSetup.class.getName());

  private LaneSetup() {}

  /** The transport for a Unix socket whose options ask for a lane; plain until set up. */
  public static LaneTransport transport(AFUNIXSocketChannel channel, ConnectionOptions options)
      throws IOException {
    SharedMemoryLane lane = options.sharedMemoryLane().orElseThrow();
    return new LaneTransport(new SocketTransport(channel), lane.spin().toNanos(),
        lane.yieldTime().toNanos());
  }

  /** Whether {@code options} ask for a lane and this platform can run one. */
  public static boolean wanted(ConnectionOptions options) {
    return options.sharedMemoryLane().isPresent() && SharedMemoryLane.supported();
  }

  /** Sets up both ends of a socket pair in this process: one region, mapped once. */
  public static void pipe(LaneTransport first, LaneTransport second, SharedMemoryLane lane)
      throws IOException {
    if (!SharedMemoryLane.supported()) {
      throw new UnsupportedOperationException("shared-memory lane needs x86-64 Linux: "
          + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    }
    int capacity = lane.ringSize();
    long size = LaneRegion.size(capacity);
    try (SharedMemory memory = SharedMemory.create(size)) {
      MappedByteBuffer region = memory.map(FileChannel.MapMode.READ_WRITE, 0, size);
      LaneRegion.initialize(region, capacity);
      first.useLane(region, capacity, 0);
      second.useLane(region, capacity, 1);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Client

  /**
   * Offers a lane on {@code transport}'s socket and switches to it if the server accepts; a
   * refusal leaves the socket plain. Reads the reply exactly: the bytes after it are lane items.
   *
   * @throws SocketTimeoutException if no reply comes before {@code deadline}
   * @throws FramingException if something else than a reply comes
   */
  public static void offer(LaneTransport transport, SharedMemoryLane lane, long deadline)
      throws IOException {
    offer(transport, lane, deadline, false);
  }

  /**
   * Sends the first 18 bytes of the OFFER frame at once: a keyless listener that
   * sees them inside its window waits for the rest (LANE.md 1.2), however long this end then
   * takes to make its region (a cold JVM loads classes, a loaded machine schedules late).
   */
  public static void announce(LaneTransport transport) throws IOException {
    transport.socket().writeFully(ByteBuffer.wrap(OFFER_START));
  }

  /** As {@link #offer(LaneTransport, SharedMemoryLane, long)}; {@code announced}: the start went. */
  public static void offer(LaneTransport transport, SharedMemoryLane lane, long deadline,
      boolean announced) throws IOException {
    int capacity = lane.ringSize();
    long size = LaneRegion.size(capacity);
    try (SharedMemory memory = SharedMemory.create(size)) {
      MappedByteBuffer region = memory.map(FileChannel.MapMode.READ_WRITE, 0, size);
      LaneRegion.initialize(region, capacity);
      ByteBuffer frame = ByteBuffer.allocate(4 + OFFER_LENGTH);
      frame.put(OFFER_START).putShort((short) 0).putLong(size);
      frame.flip().position(announced ? OFFER_START.length : 0);
      transport.socket().writeFully(frame, new FileDescriptor[] {memory.descriptor()});
      byte[] reply = readReply(transport.socket(), deadline);
      if (reply[13] == ACCEPT) {
        transport.useLane(region, capacity, 0);
      } else {
        LOG.log(System.Logger.Level.DEBUG, "shared-memory lane refused: {0}",
            new String(reply, REPLY_LENGTH, reply.length - REPLY_LENGTH, StandardCharsets.UTF_8));
      }
    }
  }

  private static byte[] readReply(SocketTransport socket, long deadline) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(4);
    readExactly(socket, head, deadline);
    int length = head.getInt(0);
    if (length < REPLY_LENGTH || length > REPLY_LENGTH + MAX_REASON) {
      throw new FramingException("shared-memory lane: expected a reply to the offer, got a frame of "
          + length + " bytes");
    }
    ByteBuffer body = ByteBuffer.allocate(length);
    readExactly(socket, body, deadline);
    byte[] reply = body.array();
    if (!Arrays.equals(reply, 0, MAGIC.length, MAGIC, 0, MAGIC.length) || reply[12] != VERSION
        || (reply[13] != ACCEPT && reply[13] != REFUSE)) {
      throw new FramingException("shared-memory lane: expected a reply to the offer");
    }
    return reply;
  }

  private static void readExactly(SocketTransport socket, ByteBuffer dst, long deadline)
      throws IOException {
    while (dst.hasRemaining()) {
      int n = socket.readWithin(dst, deadline);
      if (n < 0) throw new EOFException("the server closed instead of answering the lane offer");
      if (n == 0) throw new SocketTimeoutException("shared-memory lane offer not answered");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Server

  /** Whether a received message is a lane OFFER (LANE.md 2.1). */
  public static boolean isOffer(byte[] message) {
    return message.length == OFFER_LENGTH
        && Arrays.equals(message, 0, OFFER_START.length - 4, OFFER_START, 4, OFFER_START.length);
  }

  /** Whether a stream's first bytes may be the start of an OFFER frame (LANE.md 1.2). */
  public static boolean mayStartOffer(byte[] first) {
    int n = Math.min(first.length, OFFER_START.length);
    return Arrays.equals(first, 0, n, OFFER_START, 0, n);
  }

  /**
   * Answers a received OFFER whose bytes brought {@code fds}: checks and maps the region, switches
   * {@code transport} to it and accepts, or refuses and stays plain. Closes every descriptor in
   * {@code fds}. Returns whether the lane is on.
   *
   * @throws IOException if the reply cannot be sent
   */
  public static boolean answer(LaneTransport transport, byte[] offer, FileDescriptor[] fds)
      throws IOException {
    String refusal;
    try {
      refusal = tryToMap(transport, offer, fds);
    } finally {
      ReceivedDescriptors.closeQuietly(fds);
    }
    byte[] reason = refusal == null ? new byte[0] : refusal.getBytes(StandardCharsets.UTF_8);
    int length = REPLY_LENGTH + Math.min(reason.length, MAX_REASON);
    ByteBuffer reply = ByteBuffer.allocate(4 + length);
    reply.putInt(length).put(MAGIC).put(VERSION).put(refusal == null ? ACCEPT : REFUSE)
        .putShort((short) 0).put(reason, 0, length - REPLY_LENGTH);
    transport.socket().writeFully(reply.flip());
    if (refusal != null) LOG.log(System.Logger.Level.DEBUG, "shared-memory lane refused: {0}", refusal);
    return refusal == null;
  }

  /** Maps and switches; the reason for refusing, or null once switched. */
  private static String tryToMap(LaneTransport transport, byte[] offer, FileDescriptor[] fds) {
    if (!SharedMemoryLane.supported()) return "this server runs no lanes on this platform";
    if (fds.length != 1) return "the offer brought " + fds.length + " descriptors, not 1";
    long size = ByteBuffer.wrap(offer, 16, 8).getLong();
    if (size < LaneRegion.size(LaneRegion.MIN_CAPACITY) || size > LaneRegion.size(LaneRegion.MAX_CAPACITY)) {
      return "region size " + size + " out of range";
    }
    try (SharedMemory memory = SharedMemory.open(fds[0])) {
      if (memory.currentSize() < size) return "region of " + memory.currentSize() + " < " + size + " bytes";
      MappedByteBuffer region = memory.map(FileChannel.MapMode.READ_WRITE, 0, size);
      int capacity = LaneRegion.validate(region, size);
      transport.useLane(region, capacity, 1);
      return null;
    } catch (IOException | RuntimeException e) {
      return "cannot use the region: " + e.getMessage();
    } catch (InternalError e) {
      // The client shrank its file between the size check and validate's reads: the JVM turned
      // the SIGBUS into this. Refuse, and keep the accept loop's thread alive.
      return "the region faulted: " + e.getMessage();
    }
  }
}
