package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.internal.connection.FramedConnection;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The shared-memory lane (docs/LANE.md) beyond the contract suite. */
@ExtendWith(LeakCheck.class)
class LaneTest {
  private static final SharedMemoryLane SMALL = SharedMemoryLane.builder().ringSize(4096).build();
  private static final AuthKey KEY = AuthKey.of("lane test".getBytes(StandardCharsets.US_ASCII));

  @TempDir Path dir;

  private static boolean lane(Connection c) {
    return ((FramedConnection) c).usesSharedMemoryLane();
  }

  @Test
  void streamsMessagesFromEmptyToManyTimesTheRing() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    try (Pipe.Duplex pipe = Pipe.duplex(options)) {
      assertTrue(lane(pipe.first()) && lane(pipe.second()));
      int[] sizes = {0, 1, 63, 64, 4095, 4096, 4097, 65_536, 1_000_003};
      Random random = new Random(17);
      for (int size : sizes) {
        byte[] payload = new byte[size];
        random.nextBytes(payload);
        CompletableFuture<?> sent = TestThreads.call(() -> {
          pipe.first().sendBytes(payload);
          return null;
        });
        assertArrayEquals(payload, pipe.second().receiveBytes(), "size " + size);
        sent.get(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * A 3 GiB message (over Java's array limit and 2^31, so with the 64-bit header) streamed through
   * a 1 MiB ring from a channel into a channel, neither side holding it (half a second here).
   */
  @Test
  void streamsThreeGibibytesThroughTheRing() throws Exception {
    long size = 3L << 30;
    ConnectionOptions options = ConnectionOptions.builder().maxMessageSize(size)
        .sharedMemoryLane(SharedMemoryLane.defaults()).build();
    try (Pipe.Duplex pipe = Pipe.duplex(options)) {
      CompletableFuture<?> sent = TestThreads.call(() -> {
        pipe.first().sendFrom(new Zeros(size), size);
        return null;
      });
      long[] got = {0};
      long received = pipe.second().receiveTo(new java.nio.channels.WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) {
          int n = src.remaining(); // Zeros leaves its buffers as they are: count, don't look
          src.position(src.limit());
          got[0] += n;
          return n;
        }

        @Override
        public boolean isOpen() {
          return true;
        }

        @Override
        public void close() {}
      });
      assertEquals(size, received);
      assertEquals(size, got[0]);
      sent.get(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void agreesOnALaneOnlyWhenBothEndsAsk() throws Exception {
    ConnectionOptions plain = ConnectionOptions.builder().authKey(KEY).build();
    ConnectionOptions withLane = plain.toBuilder().sharedMemoryLane(SMALL).build();
    assertTrue(roundTrip(withLane, withLane), "both ask");
    assertFalse(roundTrip(withLane, plain), "lane listener, plain client");
    assertFalse(roundTrip(plain, withLane), "plain listener, lane client");
    assertFalse(roundTrip(plain, plain), "neither");
    ConnectionOptions keyless = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    assertTrue(roundTrip(keyless, keyless), "both ask, no key");
    assertFalse(roundTrip(keyless, ConnectionOptions.defaults()), "keyless lane listener, plain client");
  }

  /** Connects, sends both ways, and tells whether both ends use a lane (they must agree). */
  private boolean roundTrip(ConnectionOptions server, ConnectionOptions client) throws Exception {
    Path socket = dir.resolve("s" + System.nanoTime());
    try (Listener listener = Listener.bind(new Address.Unix(socket), server)) {
      CompletableFuture<Connection> accepted =
          TestThreads.call(() -> listener.accept(Duration.ofSeconds(10)));
      try (Connection c = Client.connect(listener.address(), client);
          Connection s = accepted.get(10, TimeUnit.SECONDS)) {
        c.sendBytes("ping".getBytes(StandardCharsets.US_ASCII));
        assertEquals("ping", new String(s.receiveBytes(), StandardCharsets.US_ASCII));
        s.sendBytes(new byte[3000]); // under the ring: the send must not wait for the receive
        assertEquals(3000, c.receiveBytes().length);
        assertEquals(lane(c), lane(s));
        return lane(c);
      }
    }
  }

  @Test
  void keylessListenerServesAClientThatWaitsForTheServerFirst() throws Exception {
    ConnectionOptions keyless = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("s")), keyless);
        Connection c = Client.connect(listener.address());
        Connection s = listener.accept(Duration.ofSeconds(10))) {
      assertFalse(lane(s));
      s.sendBytes(new byte[] {42});
      assertArrayEquals(new byte[] {42}, c.receiveBytes());
    }
  }

  @Test
  void waitAndPollSeeMessagesInTheRing() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    try (Pipe.Duplex pipe = Pipe.duplex(options)) {
      assertFalse(pipe.second().poll());
      pipe.first().sendBytes(new byte[] {1});
      pipe.first().sendBytes(new byte[] {2});
      assertEquals(List.of(pipe.second()), Wait.ready(List.of(pipe.second()), Duration.ofSeconds(5)));
      assertArrayEquals(new byte[] {1}, pipe.second().receiveBytes());
      // The second message sits in the ring, announced by no bell: the transport tells.
      assertEquals(List.of(pipe.second()), Wait.ready(List.of(pipe.second()), Duration.ofSeconds(5)));
      assertTrue(pipe.second().poll(Duration.ofSeconds(1)));
      assertArrayEquals(new byte[] {2}, pipe.second().receiveBytes());
      assertFalse(pipe.second().poll(Duration.ofMillis(50)));
    }
  }

  @Test
  void aBellForBytesAlreadyTakenIsNoReadiness() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex(ConnectionOptions.builder().sharedMemoryLane(SMALL).build())) {
      pipe.first().sendBytes(new byte[] {1});
      assertEquals(List.of(pipe.second()), Wait.ready(List.of(pipe.second()), Duration.ofSeconds(5)));
      pipe.second().receiveBytes();
      assertEquals(List.of(), Wait.ready(List.of(pipe.second()), Duration.ofMillis(100)));
    }
  }

  @Test
  void spinningReceiverGetsEveryMessage() throws Exception {
    SharedMemoryLane spinning = SharedMemoryLane.builder().ringSize(4096)
        .spin(Duration.ofMillis(5)).yieldTime(Duration.ofMillis(5)).build();
    ConnectionOptions options = ConnectionOptions.builder().sharedMemoryLane(spinning).build();
    try (Pipe.Duplex pipe = Pipe.duplex(options)) {
      CompletableFuture<?> echo = TestThreads.call(() -> {
        for (int i = 0; i < 2_000; i++) pipe.second().sendBytes(pipe.second().receiveBytes());
        return null;
      });
      byte[] message = new byte[64];
      for (int i = 0; i < 2_000; i++) {
        ByteBuffer.wrap(message).putInt(0, i);
        pipe.first().sendBytes(message);
        assertEquals(i, ByteBuffer.wrap(pipe.first().receiveBytes()).getInt(0));
      }
      echo.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void closeFromAnotherThreadWakesAParkedReceive() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    try (Pipe.Duplex pipe = Pipe.duplex(options)) {
      CompletableFuture<byte[]> receive = TestThreads.call(() -> pipe.second().receiveBytes());
      Thread.sleep(100);
      pipe.second().close();
      java.util.concurrent.ExecutionException e = assertThrows(
          java.util.concurrent.ExecutionException.class, () -> receive.get(5, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof IOException, e.toString());
    }
  }

  @Test
  void peerClosingAfterSendingLeavesItsMessagesThenEof() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    try (Pipe.Duplex pipe = Pipe.duplex(options)) {
      pipe.first().sendBytes(new byte[] {7});
      pipe.first().close();
      assertArrayEquals(new byte[] {7}, pipe.second().receiveBytes());
      assertThrows(EOFException.class, () -> pipe.second().receiveBytes());
    }
  }

  @Test
  void killedPeerEndsAParkedReceiveWithinASecond() throws Exception {
    long eofAfter = nanosFromKillToEof(null, 200);
    assertTrue(eofAfter < TimeUnit.SECONDS.toNanos(1), "eof after " + eofAfter);
  }

  /**
   * A receive spinning on its whole 1 s budget still hears of a killed peer at once: the spin
   * looks at the socket each millisecond (a killed peer sets no flag in the ring).
   */
  @Test
  void killedPeerEndsASpinningReceiveWithinMilliseconds() throws Exception {
    ConnectionOptions spinning = ConnectionOptions.builder().sharedMemoryLane(
        SharedMemoryLane.builder().ringSize(4096).spin(Duration.ofSeconds(1)).build()).build();
    long eofAfter = nanosFromKillToEof(spinning, 400);
    assertTrue(eofAfter < TimeUnit.MILLISECONDS.toNanos(300), "eof after " + eofAfter / 1000 + " us");
  }

  /**
   * Connects to an echo peer JVM (with {@code options}, or the default lane if null), checks one
   * echo, leaves a receive waiting for {@code settleMillis}, SIGKILLs the peer and returns how long
   * the receive took to end with EOF.
   */
  private long nanosFromKillToEof(ConnectionOptions options, long settleMillis) throws Exception {
    Process child = startPeer("echo");
    try (Connection c = options == null ? connectToPeer(child) : connectToPeer(child, options)) {
      assertTrue(lane(c));
      c.sendBytes(new byte[] {5});
      assertArrayEquals(new byte[] {5}, c.receiveBytes());
      CompletableFuture<Long> ended = TestThreads.call(() -> {
        try {
          c.receiveBytes();
          return -1L;
        } catch (EOFException e) {
          return System.nanoTime();
        }
      });
      Thread.sleep(settleMillis);
      long killed = System.nanoTime();
      child.destroyForcibly();
      long at = ended.get(5, TimeUnit.SECONDS);
      assertTrue(at > 0, "the receive returned a message instead of EOF");
      return at - killed;
    } finally {
      child.destroyForcibly().waitFor();
    }
  }

  @Test
  void killedPeerEndsASendBlockedOnAFullRingWithinASecond() throws Exception {
    Process child = startPeer("mute");
    try (Connection c = connectToPeer(child)) {
      assertTrue(lane(c));
      CompletableFuture<Long> failed = TestThreads.supply(() -> {
        try {
          c.sendBytes(new byte[10 << 20]); // the peer never reads: the ring fills
          return -1L;
        } catch (IOException e) {
          return System.nanoTime();
        }
      });
      Thread.sleep(300);
      long killed = System.nanoTime();
      child.destroyForcibly();
      long at = failed.get(5, TimeUnit.SECONDS);
      assertTrue(at > 0 && at - killed < TimeUnit.SECONDS.toNanos(1), "failed after " + (at - killed));
    } finally {
      child.destroyForcibly().waitFor();
    }
  }

  private Process startPeer(String mode) throws IOException {
    Path socket = dir.resolve("peer");
    List<String> command = List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        LanePeerMain.class.getName(), "unix:" + socket, mode);
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static Connection connectToPeer(Process child) throws IOException {
    return connectToPeer(child, ConnectionOptions.builder().sharedMemoryLane(SMALL).build());
  }

  private static Connection connectToPeer(Process child, ConnectionOptions options)
      throws IOException {
    BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    assertTrue(line != null && line.startsWith("unix:"), "child printed " + line);
    return Client.connect(Address.parse(line), options);
  }

  @Test
  void passesAConnectionInsideAMessageOverALane() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    try (Pipe.Duplex carrier = Pipe.duplex(options); Pipe.Duplex passed = Pipe.duplex()) {
      assertTrue(lane(carrier.first()));
      dev.ferry.handle.Handles.sendConnection(carrier.first(), passed.second(),
          dev.ferry.handle.Ownership.DUPLICATE);
      try (Connection received = dev.ferry.handle.Handles.receiveConnection(
          carrier.second(), dev.ferry.handle.Access.DUPLEX)) {
        passed.first().sendBytes(new byte[] {9});
        assertArrayEquals(new byte[] {9}, received.receiveBytes());
      }
    }
  }

  @Test
  void agreesOnALaneBetweenDifferentRingSizes() throws Exception {
    // Ring sizes are the offerer's choice: a listener with another size still accepts.
    ConnectionOptions server = ConnectionOptions.builder().sharedMemoryLane(SMALL).build();
    ConnectionOptions client = ConnectionOptions.builder()
        .sharedMemoryLane(SharedMemoryLane.builder().ringSize(1 << 16).build()).build();
    assertTrue(roundTrip(server, client));
  }

  @Test
  void rejectsBadLaneSettingsNamingTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SharedMemoryLane.builder().ringSize(5000));
    assertEquals("ringSize 5000 is not a power of two from 4096 to 268435456", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> SharedMemoryLane.builder().spin(Duration.ofSeconds(2)));
    assertEquals("spin over 1 s: PT2S", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SharedMemoryLane.builder()
        .spin(Duration.ofMillis(600)).yieldTime(Duration.ofMillis(600)).build());
    assertEquals("spin + yieldTime over 1 s: PT0.6S + PT0.6S", e.getMessage());
  }
}
