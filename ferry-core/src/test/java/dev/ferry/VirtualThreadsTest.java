package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Event;
import jdk.jfr.Name;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledForJreRange;
import org.junit.jupiter.api.condition.JRE;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Blocking round trips on thousands of virtual threads, each on a connection of its own whose
 * other end an event loop echoes, while JFR watches for {@code jdk.VirtualThreadPinned} (the
 * event behind {@code -Djdk.tracePinnedThreads}, which JDK 24 removed). Runs on JDK 21 and later;
 * the code is compiled for 17, so the executor is looked up with a method handle.
 */
@ExtendWith(LeakCheck.class)
@EnabledForJreRange(min = JRE.JAVA_21)
class VirtualThreadsTest {
  private static final int WANTED = Integer.getInteger("ferry.virtual.connections", 10_000);
  private static final int ROUND_TRIPS = 3;

  /** Committed after the work: once the stream shows it, earlier events have been seen too. */
  @Name("dev.ferry.test.Done")
  static final class Done extends Event {}

  /**
   * The JDK opens its virtual-thread pollers (epoll descriptors it keeps for good) the first time a
   * virtual thread parks in a channel read: make that happen before LeakCheck takes its count.
   */
  @org.junit.jupiter.api.BeforeAll
  static void startTheJdksPollers() throws Throwable {
    try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"));
        Connection client = Client.connect(listener.address());
        Connection server = listener.accept(Duration.ofSeconds(10))) {
      ExecutorService virtual = newVirtualThreadPerTaskExecutor();
      try {
        Future<byte[]> received = virtual.submit(() -> server.receiveBytes());
        Thread.sleep(100); // let it park
        client.sendBytes(new byte[] {1});
        assertEquals(1, received.get(30, TimeUnit.SECONDS).length);
      } finally {
        virtual.shutdown();
        assertTrue(virtual.awaitTermination(30, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void blockingRoundTripsOnVirtualThreadsDoNotPin() throws Throwable {
    // Per connection: two sockets, and the blocking end's read selector (two descriptors).
    int n = FdLimit.fit(WANTED, 4);
    assumeTrue(n >= 1000, "soft descriptor limit " + FdLimit.soft() + " leaves room for " + n
        + " connections, fewer than 1000; raise it (ulimit -n)");
    List<Pipe.Duplex> pipes = new ArrayList<>();
    try (EventLoops loops = EventLoops.open(2)) {
      List<Connection> ends = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        Pipe.Duplex pipe = Pipe.duplex();
        pipes.add(pipe);
        echo(AsyncConnection.of(pipe.second(), loops));
        ends.add(pipe.first());
      }
      roundTripsWithoutPinning("virtual threads", ends);
    } finally {
      for (Pipe.Duplex p : pipes) p.close();
    }
  }

  /**
   * The full figure of issue 7: 10,000 virtual threads, each with a TCP connection of its own,
   * making blocking round trips. The echoing ends live in a child JVM, so that each process holds
   * 10,000 descriptors (the limit here is 20,000). The JDK's TCP channels read in blocking mode
   * on virtual threads, which parks them instead of holding a carrier.
   */
  @Test
  void tenThousandVirtualThreadsMakeBlockingRoundTripsOverTcp() throws Throwable {
    // Per connection: the socket; virtual threads wait on one shared selector (VirtualWaits).
    int n = FdLimit.fit(WANTED, 1);
    assumeTrue(n >= 1000, "soft descriptor limit " + FdLimit.soft() + " leaves room for " + n
        + " connections, fewer than 1000; raise it (ulimit -n)");
    List<String> command = new ArrayList<>(List.of(
        java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        EchoServerMain.class.getName(), "tcp:127.0.0.1:0"));
    Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<Connection> connections = new ArrayList<>();
    try {
      java.io.BufferedReader out = new java.io.BufferedReader(
          new java.io.InputStreamReader(child.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      String line = out.readLine();
      assertTrue(line != null && line.startsWith("tcp:"), "child printed " + line);
      Address address = Address.parse(line);
      for (int i = 0; i < n; i++) connections.add(Client.connect(address));
      // Warm-up before JFR watches: the JDK's first park of a virtual thread in a channel read
      // initializes classes of its own and can report a pinning there, once.
      onVirtualThreads(connections.subList(0, 100), 1);
      roundTripsWithoutPinning("virtual threads over TCP", connections);
    } finally {
      for (Connection c : connections) c.close();
      child.getOutputStream().close();
      if (!child.waitFor(30, TimeUnit.SECONDS)) child.destroyForcibly().waitFor();
    }
  }

  /**
   * The shared wait of virtual threads on TCP sockets: a timed poll times out and leaves the
   * connection usable, and close wakes a receive waiting without a timeout.
   */
  @Test
  void virtualThreadWaitsOnTcpTimeOutAndWakeOnClose() throws Throwable {
    try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"));
        Connection client = Client.connect(listener.address());
        Connection server = listener.accept(Duration.ofSeconds(10))) {
      ExecutorService virtual = newVirtualThreadPerTaskExecutor();
      try {
        Future<Boolean> timedOut = virtual.submit(() -> server.poll(Duration.ofMillis(200)));
        assertEquals(false, timedOut.get(30, TimeUnit.SECONDS));
        Future<byte[]> received = virtual.submit(() -> server.receiveBytes());
        client.sendBytes(new byte[] {7});
        assertEquals(7, received.get(30, TimeUnit.SECONDS)[0]);
        Future<Throwable> closed = virtual.submit(() -> {
          try {
            server.receiveBytes();
            return null;
          } catch (java.io.IOException e) {
            return e;
          }
        });
        Thread.sleep(200); // let it park
        server.close();
        assertTrue(closed.get(30, TimeUnit.SECONDS) instanceof ConnectionClosedException);
      } finally {
        virtual.shutdown();
        assertTrue(virtual.awaitTermination(30, TimeUnit.SECONDS));
      }
    }
  }

  /** Round trips on a virtual thread per connection while JFR watches; asserts no pinning. */
  private static void roundTripsWithoutPinning(String what, List<Connection> connections)
      throws Throwable {
    List<String> pinned = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    try (RecordingStream jfr = new RecordingStream()) {
      jfr.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
      jfr.enable(Done.class);
      jfr.onEvent("jdk.VirtualThreadPinned", e -> {
        synchronized (pinned) {
          pinned.add(describe(e));
        }
      });
      jfr.onEvent("dev.ferry.test.Done", e -> done.countDown());
      jfr.startAsync();
      long started = System.nanoTime();
      onVirtualThreads(connections, ROUND_TRIPS);
      long elapsed = System.nanoTime() - started;
      new Done().commit();
      assertTrue(done.await(30, TimeUnit.SECONDS), "JFR never delivered the closing event");
      System.out.printf("%s: %d threads, %d blocking round trips each, in %d ms; pinned events: %d%n",
          what, connections.size(), ROUND_TRIPS, elapsed / 1_000_000, pinned.size());
      synchronized (pinned) {
        assertEquals(List.of(), pinned.subList(0, Math.min(5, pinned.size())));
      }
    }
  }

  /** {@code roundTrips} blocking round trips on each connection, one virtual thread each. */
  private static void onVirtualThreads(List<Connection> connections, int roundTrips)
      throws Throwable {
    ExecutorService virtual = newVirtualThreadPerTaskExecutor(); // AutoCloseable only from 19
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (Connection c : connections) {
        results.add(virtual.submit(() -> {
          int sum = 0;
          for (int r = 0; r < roundTrips; r++) {
            c.sendBytes(ByteBuffer.allocate(4).putInt(r).flip());
            sum += ByteBuffer.wrap(c.receiveBytes()).getInt();
          }
          return sum;
        }));
      }
      int expected = roundTrips * (roundTrips - 1) / 2;
      for (Future<Integer> f : results) assertEquals(expected, f.get(120, TimeUnit.SECONDS));
    } finally {
      virtual.shutdown();
      assertTrue(virtual.awaitTermination(60, TimeUnit.SECONDS));
    }
  }

  private static void echo(AsyncConnection c) {
    c.receiveAsync().thenCompose(c::sendAsync).thenRun(() -> echo(c));
  }

  private static String describe(RecordedEvent e) {
    return e.getStackTrace() == null ? e.toString() : e.getStackTrace().getFrames().toString();
  }

  private static ExecutorService newVirtualThreadPerTaskExecutor() throws Throwable {
    return (ExecutorService) MethodHandles.publicLookup()
        .findStatic(Executors.class, "newVirtualThreadPerTaskExecutor",
            MethodType.methodType(ExecutorService.class))
        .invoke();
  }
}
