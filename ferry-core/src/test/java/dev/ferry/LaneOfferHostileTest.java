package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.lane.LaneRegion;
import java.io.FileDescriptor;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A keyless lane listener facing a client whose OFFER lies (LANE.md 2): a region smaller than it
 * declares (mapping it and reading past its end would be SIGBUS), no descriptor, two, or a region
 * that is not a lane's. Each is refused before anything is read from the memory, every descriptor
 * it brought is closed (LeakCheck), and the connection goes on as a plain one.
 */
@ExtendWith(LeakCheck.class)
class LaneOfferHostileTest {
  private static final int CAPACITY = 4096;

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"smaller than declared", "empty", "no descriptor", "two descriptors",
      "not a region"})
  void refusesALyingOfferAndStaysPlain(String lie) throws Exception {
    assumeTrue(SharedMemoryLane.supported());
    long declared = LaneRegion.size(CAPACITY);
    long actual = switch (lie) {
      case "smaller than declared" -> declared - 4096;
      case "empty" -> 0;
      default -> declared;
    };
    Path file = dir.resolve("region");
    ConnectionOptions options = ConnectionOptions.builder()
        .sharedMemoryLane(SharedMemoryLane.builder().ringSize(CAPACITY).build()).build();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("s")), options);
        RandomAccessFile region = new RandomAccessFile(file.toFile(), "rw");
        AFUNIXSocketChannel client = AFUNIXSocketChannel.open(
            AFUNIXSocketAddress.of(dir.resolve("s")))) {
      region.setLength(actual); // zeros: no magic either
      FileDescriptor fd = region.getFD();
      if (!lie.equals("no descriptor")) {
        client.setOutboundFileDescriptors(
            lie.equals("two descriptors") ? new FileDescriptor[] {fd, fd} : new FileDescriptor[] {fd});
      }
      ByteBuffer offer = ByteBuffer.allocate(28).putInt(24)
          .put("#FERRY-LANE#".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 'O')
          .putShort((short) 0).putLong(declared).flip();
      while (offer.hasRemaining()) client.write(offer);
      client.setOutboundFileDescriptors((FileDescriptor[]) null);
      try (Connection c = listener.accept(Duration.ofSeconds(10))) {
        assertFalse(((FramedConnection) c).usesSharedMemoryLane(), lie);
        ByteBuffer head = readExactly(client, 4);
        ByteBuffer reply = readExactly(client, head.getInt(0));
        assertEquals('R', reply.get(13), lie + ": " + reason(reply));
        // Plain from here on, both ways.
        c.sendBytes(new byte[] {1, 2, 3});
        assertArrayEquals(new byte[] {0, 0, 0, 3, 1, 2, 3}, readExactly(client, 7).array());
        ByteBuffer message = ByteBuffer.allocate(6).putInt(2).put((byte) 4).put((byte) 5).flip();
        while (message.hasRemaining()) client.write(message);
        assertArrayEquals(new byte[] {4, 5}, c.receiveBytes());
      }
    }
  }

  /**
   * A keyless client that dies after the first bytes of its OFFER (Ferry's client sends 18 ahead,
   * LANE.md 1.2): the listener ends that setup at once with an error, and does not spin on the
   * ended socket (always readable) until the handshake timeout.
   */
  @Test
  void aClientDyingMidOfferEndsItsSetupAtOnce() throws Exception {
    assumeTrue(SharedMemoryLane.supported());
    ConnectionOptions options = ConnectionOptions.builder().handshakeTimeout(Duration.ofSeconds(20))
        .sharedMemoryLane(SharedMemoryLane.builder().ringSize(CAPACITY).build()).build();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("s")), options)) {
      try (AFUNIXSocketChannel client = AFUNIXSocketChannel.open(
          AFUNIXSocketAddress.of(dir.resolve("s")))) {
        ByteBuffer start = ByteBuffer.allocate(18).putInt(24)
            .put("#FERRY-LANE#".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 'O')
            .flip();
        while (start.hasRemaining()) client.write(start);
        Thread.sleep(100); // the listener sees the start of an offer, then the end
      }
      long cpu = cpuMillis();
      long started = System.nanoTime();
      assertThrows(java.io.IOException.class, () -> listener.accept(Duration.ofSeconds(2)));
      Thread.sleep(Math.max(0, 500 - (System.nanoTime() - started) / 1_000_000));
      long used = cpuMillis() - cpu;
      long waited = (System.nanoTime() - started) / 1_000_000;
      assertTrue(used < 250, "the process used " + used + " ms of CPU in " + waited + " ms");
      assertTrue(waited < 1500, "accept took " + waited + " ms");
    }
  }

  /** This process's user + system CPU time from /proc/self/stat (ticks of 10 ms). */
  private static long cpuMillis() throws java.io.IOException {
    String stat = java.nio.file.Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
  }

  private static String reason(ByteBuffer reply) {
    return new String(reply.array(), 16, reply.capacity() - 16, StandardCharsets.UTF_8);
  }

  private static ByteBuffer readExactly(AFUNIXSocketChannel channel, int n) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (channel.read(b) < 0) throw new java.io.EOFException("after " + b.position() + " of " + n);
    }
    return b.flip();
  }
}
