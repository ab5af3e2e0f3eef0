package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.lane.LaneRegion;
import dev.ferry.internal.memory.SharedMemory;
import dev.ferry.internal.transport.LaneTransport;
import dev.ferry.internal.transport.SocketPairs;
import dev.ferry.internal.transport.SocketTransport;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/** A peer that scribbles on the lane's shared memory gets a protocol error, nothing worse. */
@ExtendWith(LeakCheck.class)
class LaneHostileTest {
  private static final int CAPACITY = 4096;
  private static final int RING = 128; // ring 0: the hostile writer's, LANE.md section 3
  private static final int DATA = RING + 256;

  /** A victim end reading ring 0 of a region the test writes by hand, and the peer's socket. */
  private record Victim(FramedConnection end, AFUNIXSocketChannel peer, ByteBuffer region)
      implements AutoCloseable {
    void ring() throws Exception {
      peer.write(ByteBuffer.wrap(new byte[] {0}));
    }

    /** Sets ring 0's tail to {@code tail} and rings the bell, as a writer publishing does. */
    void publish(long tail) throws Exception {
      region.putLong(RING, tail);
      ring();
    }

    /** The receive's refusal of what the ring holds. */
    FramingException refused() {
      return assertThrows(FramingException.class, end::receiveBytes);
    }

    @Override
    public void close() throws Exception {
      end.close();
      peer.close();
    }
  }

  private static Victim victim() throws Exception {
    try (SharedMemory memory = SharedMemory.create(LaneRegion.size(CAPACITY))) {
      return victim(memory.map(FileChannel.MapMode.READ_WRITE, 0, LaneRegion.size(CAPACITY)));
    }
  }

  /** A victim on {@code region}, which it initializes. */
  private static Victim victim(MappedByteBuffer region) throws Exception {
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    LaneTransport transport = new LaneTransport(new SocketTransport(pair[0]), 0, 0);
    LaneRegion.initialize(region, CAPACITY);
    transport.useLane(region, CAPACITY, 1);
    FramedConnection end = new FramedConnection(transport, "victim", true, true,
        ConnectionOptions.defaults());
    return new Victim(end, pair[1], region.duplicate().order(ByteOrder.LITTLE_ENDIAN));
  }

  @Test
  void readsWhatAWellBehavedWriterPublishes() throws Exception {
    try (Victim v = victim()) {
      v.region().put(DATA, new byte[] {0, 0, 0, 2, 'h', 'i'});
      v.publish(6);
      assertArrayEquals(new byte[] {'h', 'i'}, v.end().receiveBytes());
    }
  }

  @Test
  void rejectsATailMoreThanARingAhead() throws Exception {
    try (Victim v = victim()) {
      v.publish(CAPACITY + 1);
      FramingException e = v.refused();
      assertTrue(e.getMessage().startsWith("shared-memory lane: tail 4097 out of range"), e.getMessage());
    }
  }

  @Test
  void rejectsATailThatGoesBack() throws Exception {
    try (Victim v = victim()) {
      v.region().put(DATA, new byte[] {0, 0, 0, 1, 'x', 0, 0});
      v.publish(5);
      assertArrayEquals(new byte[] {'x'}, v.end().receiveBytes());
      v.publish(2);
      v.refused();
    }
  }

  @Test
  void rejectsANegativeTail() throws Exception {
    try (Victim v = victim()) {
      v.publish(-8);
      v.refused();
    }
  }

  @Test
  void rejectsANegativeLengthInTheRingLikeOnASocket() throws Exception {
    try (Victim v = victim()) {
      v.region().put(DATA, new byte[] {(byte) 0x80, 0, 0, 0});
      v.publish(4);
      v.refused();
    }
  }

  @Test
  void rejectsAStrangeByteOnTheSocket() throws Exception {
    try (Victim v = victim()) {
      v.peer().write(ByteBuffer.wrap(new byte[] {1})); // a stock send_handle's byte
      FramingException e = v.refused();
      assertTrue(e.getMessage().contains("unexpected byte 0x1"), e.getMessage());
    }
  }

  /**
   * A peer that shrinks the region's file under the mapping (JDK 17's regions and a hostile
   * client's carry no seal): the next access faults (SIGBUS), which the JVM turns into an
   * InternalError; the connection must report an IOException and close, as for any bad ring.
   */
  @Test
  void aRegionShrunkUnderTheMappingIsAnIoErrorNotAnInternalError(@TempDir Path dir) throws Exception {
    long size = LaneRegion.size(CAPACITY);
    try (RandomAccessFile file = new RandomAccessFile(dir.resolve("region").toFile(), "rw")) {
      file.setLength(size);
      try (Victim v = victim(file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, size))) {
        file.setLength(0);
        v.ring();
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> v.end().receiveBytes());
        assertTrue(e.getMessage().contains("shared memory"), e.getMessage());
        assertThrows(java.io.IOException.class, () -> v.end().sendBytes(new byte[] {1}));
      }
    }
  }

  /**
   * A writer that scribbles a huge bell count: the reader caps it (LANE.md 7) and waits for none
   * of those bells, instead of waiting out its patience on every read.
   */
  @Test
  void aScribbledBellCountCostsNoWaitPerRead() throws Exception {
    try (Victim v = victim()) {
      v.region().putLong(RING + 8, 1L << 40);
      int messages = 200;
      long started = System.nanoTime();
      for (int i = 0; i < messages; i++) {
        int at = i * 5 % CAPACITY;
        v.region().put(DATA + at, new byte[] {0, 0, 0, 1, (byte) i});
        v.region().putLong(RING, (i + 1) * 5L);
        if (i == 0) v.ring();
        assertArrayEquals(new byte[] {(byte) i}, v.end().receiveBytes());
      }
      long ms = (System.nanoTime() - started) / 1_000_000;
      assertTrue(ms < messages / 2, messages + " reads took " + ms + " ms");
    }
  }

  @Test
  void endsWithEofWhenThePeerSocketCloses() throws Exception {
    try (Victim v = victim()) {
      v.peer().close();
      assertThrows(java.io.EOFException.class, () -> v.end().receiveBytes());
    }
  }
}
