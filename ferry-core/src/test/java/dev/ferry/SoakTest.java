package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Messages from a {@link SoakPeer} process over several connections at once, mixed sizes: each
 * is checked for its sequence number (none lost, duplicated or reordered), its size and its
 * checksum (none corrupted). The default build sends a million over TCP and a million over Unix
 * sockets; {@code -Dferry.soak.messages=N} sets both.
 *
 * <p>The full run: {@code ./mvnw -o -pl ferry-core test -Dtest=SoakTest
 * -Dferry.soak.messages=10000000}.
 */
@ExtendWith(LeakCheck.class)
class SoakTest {
  private static final long MESSAGES = Long.getLong("ferry.soak.messages", 1_000_000);
  private static final int CONNECTIONS = Integer.getInteger("ferry.soak.connections", 4);

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix"})
  void everyMessageArrivesOnceInOrderAndIntact(String transport) throws Exception {
    long messages = MESSAGES;
    try (Listener listener = transport.equals("tcp")
        ? Listener.bind(new Address.Tcp("127.0.0.1", 0))
        : Listener.bindPrivate(ConnectionOptions.defaults())) {
      String java = ProcessHandle.current().info().command().orElse("java");
      Process peer = new ProcessBuilder(java, "-Xmx256m", "--enable-native-access=ALL-UNNAMED",
          "-cp", System.getProperty("java.class.path"), SoakPeer.class.getName(),
          listener.address().toString(), String.valueOf(CONNECTIONS), String.valueOf(messages))
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
      long start = System.nanoTime();
      try {
        List<CompletableFuture<long[]>> receivers = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
          Connection c = listener.accept(Duration.ofSeconds(60));
          receivers.add(TestThreads.supply(() -> receiveAll(c)));
        }
        long count = 0;
        long bytes = 0;
        for (CompletableFuture<long[]> r : receivers) {
          long[] got = r.get(30, TimeUnit.MINUTES);
          count += got[0];
          bytes += got[1];
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(messages, count, "messages received");
        assertEquals(0, peer.waitFor(), "peer exit status");
        System.out.printf("[soak] %,d messages (%,d MB) over %d %s connections from another"
            + " process in %.1f s: %,.0f msg/s; 0 lost, duplicated, reordered or corrupted%n",
            count, bytes >> 20, CONNECTIONS, transport, seconds, count / seconds);
      } finally {
        peer.destroyForcibly();
        peer.waitFor(10, TimeUnit.SECONDS);
        peer.getInputStream().close();
        peer.getOutputStream().close();
      }
    }
  }

  /** Receives until the empty end message; returns {count, bytes}; fails on any anomaly. */
  private static long[] receiveAll(Connection c) {
    byte[] pool = SoakPeer.pool();
    byte[] buffer = new byte[SoakPeer.POOL + 12];
    CRC32C crc = new CRC32C();
    long expected = 0;
    long bytes = 0;
    try (c) {
      while (true) {
        int n = c.receiveBytesInto(buffer, 0);
        if (n == 0) return new long[] {expected, bytes};
        ByteBuffer b = ByteBuffer.wrap(buffer, 0, n);
        long seq = b.getLong();
        int sum = b.getInt();
        if (seq != expected) {
          throw new AssertionError("sequence " + seq + ", expected " + expected
              + (seq < expected ? ": duplicated or reordered" : ": lost"));
        }
        if (n != SoakPeer.size(seq)) throw new AssertionError("message " + seq + " has " + n + " bytes");
        crc.reset();
        crc.update(buffer, 12, n - 12);
        if ((int) crc.getValue() != sum
            || !java.util.Arrays.equals(buffer, 12, n, pool, SoakPeer.offset(seq),
                SoakPeer.offset(seq) + n - 12)) {
          throw new AssertionError("message " + seq + " corrupted");
        }
        expected++;
        bytes += n;
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("after " + expected + " messages", e);
    }
  }
}
