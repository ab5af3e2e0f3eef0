package dev.ferry.pickle;

import dev.ferry.Receiver;
import dev.ferry.Sender;
import dev.ferry.codec.CodecException;
import dev.ferry.internal.connection.DescriptorChannel;
import dev.ferry.internal.handle.Descriptors;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Bulk messages: pickles whose large buffers cross by mapping, not copying (docs/BULK.md). A bulk
 * message is a protocol 5 pickle whose out-of-band buffers (numpy arrays and bytes-likes of at
 * least {@link #threshold()} bytes) travel as descriptors of shared memory attached to the frame
 * (SCM_RIGHTS); smaller ones stay in band. Python's side is the stdlib-only helper
 * {@code ferry_bulk} ({@code ferry python-helpers DIR}): {@code ferry_bulk.send(conn, obj)} and
 * {@code ferry_bulk.recv(conn)}.
 *
 * <p>Only Unix socket connections carry bulk messages, and only between peers that both use this
 * class or {@code ferry_bulk}: a stock peer must never be sent one. A message with no buffer at
 * or above the threshold goes as a plain pickle frame (protocol 5), and {@link #receive} takes
 * plain pickle frames too, so one side may answer a stock client in band.
 *
 * <p>Received buffers are read-only views of the mapped pages: a numpy array decodes to an
 * {@link NdArray} over them ({@link NdArray#inBuffer()}), a bytes-like to a read-only
 * {@link ByteBuffer}. A received descriptor is checked to be shared memory (a memfd or a
 * {@code /dev/shm} file) and its size against the table before it is mapped, then closed; the
 * mappings last until the garbage collector frees their buffers (Java 17 has no public unmap).
 * Seals are not checked (Java 17 cannot read them): a peer that shrinks memory it sent makes a
 * later read of it throw {@link InternalError} (the JVM turns the fault into an error; it does not
 * crash). Memory this side sends is a memfd sealed against resizing on JDK 22+, an unsealed
 * {@code /dev/shm} file on Java 17.
 *
 * <p>Instances are immutable and thread safe; sends and receives take the connection's locks, so
 * a bulk message never lands inside another message.
 */
public final class Bulk {
  /** Buffers smaller than this stay in band unless configured: 1 MiB. */
  public static final long DEFAULT_THRESHOLD = 1 << 20;

  private final PickleCodec codec;
  private final long threshold;

  private Bulk(PickleCodec codec, long threshold) {
    this.codec = codec;
    this.threshold = threshold;
  }

  /** Bulk messages pickled with {@code codec} (its allow-list, mappings and connections). */
  public static Bulk of(PickleCodec codec) {
    return new Bulk(Objects.requireNonNull(codec, "codec"), DEFAULT_THRESHOLD);
  }

  /**
   * The same, sending buffers of at least {@code bytes} out of band.
   *
   * @throws IllegalArgumentException if {@code bytes} is below 1
   */
  public Bulk withThreshold(long bytes) {
    if (bytes < 1) throw new IllegalArgumentException("threshold < 1: " + bytes);
    return new Bulk(codec, bytes);
  }

  public long threshold() {
    return threshold;
  }

  /**
   * Sends {@code value} as a bulk message. A {@link SharedBuffer}, or an {@link NdArray} made by
   * {@link SharedBuffer#ndarray}, travels with no copy; any other large buffer is copied once into
   * new shared memory. Python: {@code ferry_bulk.send(conn, obj)}.
   *
   * @throws IllegalArgumentException if {@code via} is not a Unix socket connection
   * @throws CodecException if the value cannot be pickled, or holds more than 60 large buffers
   *     (the most descriptors a Java receiver can take with one message)
   */
  public void send(Sender via, Object value) throws IOException {
    send(via, value, null);
  }

  /**
   * As {@link #send(Sender, Object)}, and the buffers and arrays of {@code answered} (still open)
   * found in {@code value} go back as the same memory, with no copy: an echo.
   */
  public void send(Sender via, Object value, Message answered) throws IOException {
    DescriptorChannel channel = channel(via);
    Map<Object, SharedBuffer> received = answered == null ? Map.of() : answered.origins;
    try (BulkWriter buffers = new BulkWriter(threshold, received)) {
      ByteArrayOutputStream pickle = new ByteArrayOutputStream();
      codec.encodeBulk(value, pickle, buffers);
      if (buffers.isEmpty()) {
        via.sendBytes(pickle.toByteArray());
      } else {
        channel.sendWithDescriptors(buffers.payload(pickle.toByteArray()), buffers.descriptors());
      }
    }
  }

  /**
   * Receives one message, bulk or plain pickle, and closes the descriptors that came with it.
   * Python: {@code ferry_bulk.recv(conn)}.
   *
   * @throws java.io.EOFException if the peer closed first
   * @throws CodecException if the message or a descriptor fails a check (a table that does not
   *     match the descriptors, a descriptor that is not shared memory or is smaller than its
   *     buffer, a plain frame with descriptors); the whole frame was read and every descriptor
   *     closed, so the connection stays in step
   */
  public Object receive(Receiver via) throws IOException {
    return read(via, false).value;
  }

  /**
   * As {@link #receive}, keeping the descriptors open until the message is closed, so that
   * {@link #send(Sender, Object, Message)} can send its buffers back without a copy.
   */
  public Message receiveMessage(Receiver via) throws IOException {
    return read(via, true);
  }

  private Message read(Receiver via, boolean keep) throws IOException {
    DescriptorChannel.Received received = channel(via).receiveWithDescriptors();
    byte[] payload = received.payload();
    FileDescriptor[] fds = received.fds();
    if (!BulkFrame.isBulk(payload)) {
      if (fds.length > 0) {
        Descriptors.closeAll(fds, 0);
        throw new CodecException("plain message came with " + fds.length + " descriptors");
      }
      int protocol = payload.length > 1 && payload[0] == (byte) 0x80 ? payload[1] : 0;
      return new Message(codec.decode(ByteBuffer.wrap(payload)), false, protocol, List.of(),
          Map.of());
    }
    List<SharedBuffer> memories = new ArrayList<>();
    boolean done = false;
    try {
      BulkFrame.Table table = BulkFrame.parse(payload, fds.length);
      for (int i = 0; i < fds.length; i++) {
        memories.add(map(fds[i], i, table, keep));
      }
      BulkReader reader = new BulkReader(memories, keep);
      ByteBuffer pickle = ByteBuffer.wrap(payload).position(table.pickleStart());
      Object value = codec.decodeBulk(pickle, reader);
      Message message = new Message(value, true, 5, keep ? memories : List.of(),
          reader.origins());
      done = true;
      return message;
    } finally {
      // Kept or not, mapped yet or not: nothing of a refused message stays open, whatever
      // refused it (an Error too: reading memory a peer shrank throws InternalError).
      if (!done) closeAll(memories);
      if (!done || !keep) Descriptors.closeAll(fds, 0);
    }
  }

  private static SharedBuffer map(FileDescriptor fd, int i, BulkFrame.Table table, boolean keep)
      throws CodecException {
    try {
      return SharedBuffer.mapReceived(fd, table.offsets()[i], table.lengths()[i], keep);
    } catch (IOException e) {
      throw new CodecException("bulk buffer " + i + ": " + e.getMessage(), e);
    }
  }

  private static void closeAll(List<SharedBuffer> memories) {
    for (SharedBuffer memory : memories) {
      try {
        memory.close();
      } catch (IOException e) {
        // A descriptor that would not close is not one to keep either.
      }
    }
  }

  private static DescriptorChannel channel(Object via) {
    Objects.requireNonNull(via, "via");
    DescriptorChannel channel = DescriptorChannel.of(via);
    if (channel == null || !channel.passesDescriptors()) {
      throw new IllegalArgumentException("bulk messages need a unix socket connection: " + via);
    }
    return channel;
  }

  /**
   * A received message that keeps the shared memory of its buffers open until closed, so that
   * an answer can send them back as they are. Closing it closes the descriptors; the buffers in
   * {@link #value()} stay readable until the garbage collector frees them.
   */
  public static final class Message implements AutoCloseable {
    private final Object value;
    private final boolean bulk;
    private final int protocol;
    private final List<SharedBuffer> memories;
    private final Map<Object, SharedBuffer> origins;

    private Message(Object value, boolean bulk, int protocol, List<SharedBuffer> memories,
        Map<Object, SharedBuffer> origins) {
      this.value = value;
      this.bulk = bulk;
      this.protocol = protocol;
      this.memories = memories;
      this.origins = origins.isEmpty() ? Map.of() : origins; // the reader's, dropped after
    }

    public Object value() {
      return value;
    }

    /** Whether it came as a bulk message; false for a plain pickle frame. */
    public boolean isBulk() {
      return bulk;
    }

    /** The pickle protocol its PROTO opcode named (5 for a bulk message; 0 if none). */
    public int protocol() {
      return protocol;
    }

    /** How many buffers came out of band. */
    public int buffers() {
      return memories.size();
    }

    @Override
    public void close() {
      closeAll(memories);
    }
  }
}
