package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.internal.connection.FramedConnection;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ferry's lane (docs/LANE.md) against ferry_shm (docs/FERRY_SHM.md), the two written apart: each
 * side listens and each connects, with and without an authkey, and both must really use the lane.
 * shm_interop_peer.py drives the CPython end; its lines are the Python side's verdicts.
 */
@ExtendWith(LeakCheck.class)
class FerryShmInteropTest {
  private static final byte[] KEY = "interop key".getBytes(StandardCharsets.US_ASCII);
  /** 0 B, one cache line, a whole 1 MiB ring, and five of them (it streams; 1280 rings of 4 KiB). */
  private static final int[] SIZES = {0, 64, 1 << 20, 5 << 20};

  @TempDir Path dir;

  static Stream<Arguments> cases() {
    List<Arguments> all = new ArrayList<>();
    for (String version : List.of("3.8", "3.11", "3.13")) {
      for (boolean javaListens : new boolean[] {true, false}) {
        for (boolean key : new boolean[] {true, false}) {
          all.add(Arguments.of(version, javaListens, key));
        }
      }
    }
    return all.stream();
  }

  private static void assumeLaneHost() {
    assumeTrue(SharedMemoryLane.supported(), "a lane needs x86-64 Linux");
  }

  private static boolean lane(Connection c) {
    return ((FramedConnection) c).usesSharedMemoryLane();
  }

  /** The keyless runs' offers ask for the smallest ring: 5 MiB then streams through 4 KiB. */
  private static int ring(boolean key) {
    return key ? 1 << 20 : 4096;
  }

  private static ConnectionOptions options(boolean key) {
    ConnectionOptions.Builder b = ConnectionOptions.builder()
        .sharedMemoryLane(SharedMemoryLane.builder().ringSize(ring(key)).build());
    if (key) b.authKey(AuthKey.of(KEY));
    return b.build();
  }

  private Process python(String version, String mode, boolean key) throws Exception {
    Path python = Pythons.require(version);
    Path script = Pythons.script("/python/shm_interop_peer.py");
    Pythons.script("/dev/ferry/handle/ferry_shm.py");
    return new ProcessBuilder(python.toString(), script.toString(), mode,
        dir.resolve("s").toString(), key ? new String(KEY, StandardCharsets.US_ASCII) : "-",
        Integer.toString(ring(key)))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /**
   * Sizes both ways, a pickle made and checked by Python, wait() on a lane fed by Java; then the
   * keyed runs close from Java (Python sees EOFError), the keyless ones SIGKILL Python (Java's
   * parked receive sees EOF within 1 s).
   */
  @ParameterizedTest(name = "python {0}, java listens {1}, key {2}")
  @MethodSource("cases")
  void javaAndFerryShmShareALane(String version, boolean javaListens, boolean key) throws Exception {
    assumeLaneHost();
    Address address = new Address.Unix(dir.resolve("s"));
    Process p = null;
    try {
      Connection c;
      BlockingQueue<String> out;
      if (javaListens) {
        try (Listener listener = Listener.bind(address, options(key))) {
          p = python(version, "connect", key);
          out = Pythons.output(p);
          c = listener.accept(Duration.ofSeconds(30));
        }
      } else {
        p = python(version, "listen", key);
        out = Pythons.output(p);
        assertEquals("ready", Pythons.line(out));
        c = Client.connect(address, options(key));
      }
      try (Connection conn = c) {
        assertEquals("lane True", Pythons.line(out));
        assertTrue(lane(conn), "the Java end has no lane");
        Random random = new Random(17);
        for (int size : SIZES) {
          byte[] payload = new byte[size];
          random.nextBytes(payload);
          conn.sendBytes(payload);
          assertArrayEquals(payload, conn.receiveBytes(), "size " + size);
        }
        conn.sendBytes("pickles".getBytes(StandardCharsets.US_ASCII));
        conn.sendBytes(conn.receiveBytes()); // the pickle, back as it came
        assertEquals("pickle True", Pythons.line(out));
        // Python idles 50 ms in its own wait() before it says "go": Java's Wait parks meanwhile.
        assertEquals(List.of(conn), Wait.ready(List.of(conn), Duration.ofSeconds(10)));
        assertArrayEquals("go".getBytes(StandardCharsets.US_ASCII), conn.receiveBytes());
        Thread.sleep(100); // Python's wait() parks first: the doorbell must wake it
        conn.sendBytes("fed".getBytes(StandardCharsets.US_ASCII));
        assertEquals("wait True fed", Pythons.line(out));
        assertEquals("holding", Pythons.line(out));
        // Every bell ferry_shm rang was for bytes now read: none may leave a false readiness.
        assertTrue(Wait.ready(List.of(conn), Duration.ofMillis(50)).isEmpty(), "stale readiness");
        if (key) {
          conn.close();
          assertEquals("eof", Pythons.line(out));
          assertEquals(0, Pythons.exit(p));
        } else {
          Process victim = p;
          CompletableFuture<Long> ended = CompletableFuture.supplyAsync(() -> {
            try {
              conn.receiveBytes();
              return -1L;
            } catch (EOFException e) {
              return System.nanoTime();
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
          Thread.sleep(200);
          long killed = System.nanoTime();
          victim.destroyForcibly();
          long at = ended.get(5, TimeUnit.SECONDS);
          assertTrue(at > 0 && at - killed < TimeUnit.SECONDS.toNanos(1), "eof after " + (at - killed));
          assertThrows(EOFException.class, conn::receiveBytes);
        }
      }
    } finally {
      if (p != null) p.destroyForcibly().waitFor();
    }
  }

  /**
   * A keyed Ferry lane client against a stock CPython listener: the stock challenge announces no
   * lane, so the client makes no offer and the stock end sees only its own protocol.
   */
  @ParameterizedTest(name = "python {0}")
  @ValueSource(strings = {"3.8", "3.13"})
  void keyedLaneClientGivesAStockListenerAPlainConnection(String version) throws Exception {
    assumeLaneHost();
    Path python = Pythons.require(version);
    Path script = dir.resolve("stock.py");
    java.nio.file.Files.writeString(script, String.join("\n",
        "import sys",
        "from multiprocessing.connection import Listener",
        "with Listener(sys.argv[1], authkey=sys.argv[2].encode()) as l:",
        "    print('ready', flush=True)",
        "    with l.accept() as c:",
        "        m = c.recv_bytes()",
        "        c.send_bytes(m)",
        "        print('got', m.decode(), flush=True)",
        ""), StandardCharsets.UTF_8);
    Process p = new ProcessBuilder(python.toString(), script.toString(),
        dir.resolve("s").toString(), new String(KEY, StandardCharsets.US_ASCII))
        .redirectErrorStream(true).start();
    try {
      BlockingQueue<String> out = Pythons.output(p);
      assertEquals("ready", Pythons.line(out));
      try (Connection c = Client.connect(new Address.Unix(dir.resolve("s")), options(true))) {
        assertTrue(!lane(c), "a lane with a stock listener");
        c.sendBytes("plain".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals("plain".getBytes(StandardCharsets.US_ASCII), c.receiveBytes());
        assertEquals("got plain", Pythons.line(out));
      }
      assertEquals(0, Pythons.exit(p));
    } finally {
      p.destroyForcibly().waitFor();
    }
  }

  /** A Ferry peer JVM killed under a parked ferry_shm receive: EOFError within 1 s. */
  @ParameterizedTest(name = "python {0}")
  @ValueSource(strings = {"3.8", "3.13"})
  void killedJavaPeerEndsFerryShmReceiveWithinASecond(String version) throws Exception {
    assumeLaneHost();
    Path socket = dir.resolve("s");
    Process jvm = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        LanePeerMain.class.getName(), "unix:" + socket, "echo")
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Process p = null;
    try {
      BufferedReader ready = new BufferedReader(
          new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
      String line = ready.readLine();
      assertTrue(line != null && line.startsWith("unix:"), "peer JVM printed " + line);
      p = python(version, "hold", false);
      BlockingQueue<String> out = Pythons.output(p);
      assertEquals("lane True", Pythons.line(out));
      assertEquals("holding", Pythons.line(out));
      Thread.sleep(200);
      long killed = System.nanoTime();
      jvm.destroyForcibly();
      String eof = out.poll(5, TimeUnit.SECONDS);
      long at = System.nanoTime();
      assertEquals("eof", eof);
      assertTrue(at - killed < TimeUnit.SECONDS.toNanos(1), "EOFError after " + (at - killed));
      assertEquals(0, Pythons.exit(p));
    } finally {
      jvm.destroyForcibly().waitFor();
      if (p != null) p.destroyForcibly().waitFor();
    }
  }
}
