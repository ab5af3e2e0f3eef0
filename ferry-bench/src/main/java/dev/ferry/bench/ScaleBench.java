package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Wait;
import dev.ferry.WaitSet;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The scale workload behind {@code ferry bench --scale N}: this process holds N authenticated
 * connections (Unix sockets, then TCP) served from one thread through one {@link WaitSet}, while
 * a child JVM ({@link ScalePeer}) holds the client ends and echoes. Every connection exchanges
 * {@link #ROUNDS} messages, each checked. Reports the connect time, the round trips, the heap per
 * idle connection and per wait-set member, and what {@link WaitSet#ready} and {@link Wait#ready}
 * cost with one connection ready among 10, 1,000 and N registered, as ratios to the 10 case of
 * the same run.
 */
public final class ScaleBench {
  public static final int DEFAULT_CONNECTIONS = 10_000;

  /** Messages each connection sends and gets back. */
  static final int ROUNDS = 3;

  private static final String KEY = "ferry-scale";
  private static final Duration STEP = Duration.ofSeconds(60);
  private static final byte[] POKE = "poke".getBytes(StandardCharsets.US_ASCII);

  private ScaleBench() {}

  /** What one kind of socket gave. */
  record Result(String kind, int connections, long connectNanos, long exchangeNanos,
      double heapPerConnection, double directPerConnection, double heapPerMember,
      List<Cost> costs) {}

  /** One ready among {@code registered}: microseconds per call of each way to wait. */
  record Cost(int registered, double waitSetMicros, double waitMicros) {}

  static ConnectionOptions options(String key) {
    return ConnectionOptions.builder()
        .authKey(AuthKey.of(key.getBytes(StandardCharsets.US_ASCII)))
        .backlog(ScalePeer.WAVE * 2)
        .handshakeTimeout(STEP)
        .connectTimeout(STEP)
        .build();
  }

  /**
   * Runs the workload with {@code connections} per kind, prints Markdown tables on {@code out}
   * and progress on {@code progress}. Blocks until done.
   *
   * @throws IllegalArgumentException if {@code connections < 10}
   */
  public static void run(int connections, PrintStream out, PrintStream progress)
      throws IOException, InterruptedException {
    run(connections, new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true),
        new PrintWriter(new OutputStreamWriter(progress, StandardCharsets.UTF_8), true));
  }

  /** As {@link #run(int, PrintStream, PrintStream)}, for callers that hold writers. */
  public static void run(int connections, PrintWriter out, PrintWriter progress)
      throws IOException, InterruptedException {
    List<Result> results = measure(connections, progress);
    report(results, out);
    out.flush();
  }

  /** Both kinds, Unix then TCP. */
  static List<Result> measure(int connections, PrintWriter progress)
      throws IOException, InterruptedException {
    if (connections < 10) throw new IllegalArgumentException("connections < 10: " + connections);
    long limit = softDescriptorLimit();
    progress.println("scale: " + connections + " connections per kind; soft descriptor limit "
        + limit + " in this process (the JVM raises it to the hard limit at start)");
    if (connections + 300L > limit) {
      throw new IOException("scale: " + connections + " connections need about "
          + (connections + 300) + " descriptors here, ulimit -n is " + limit);
    }
    Path dir = Files.createTempDirectory("ferry-scale-");
    try {
      List<Result> results = new ArrayList<>();
      results.add(runOne("unix", new Address.Unix(dir.resolve("scale.sock")), connections,
          progress));
      results.add(runOne("tcp", new Address.Tcp("127.0.0.1", 0), connections, progress));
      return results;
    } finally {
      Files.deleteIfExists(dir.resolve("scale.sock"));
      Files.deleteIfExists(dir);
    }
  }

  private static Result runOne(String kind, Address address, int n, PrintWriter progress)
      throws IOException, InterruptedException {
    List<Connection> connections = new ArrayList<>(n);
    Process peer = null;
    try (Listener listener = Listener.bind(address, options(KEY))) {
      long heapBefore = heapAfterGc();
      long directBefore = directMemory();
      progress.println("scale " + kind + ": starting the client JVM");
      peer = startPeer(listener.address(), n);
      accept(listener, peer, n, connections);
      BufferedReader lines = new BufferedReader(
          new InputStreamReader(peer.getInputStream(), StandardCharsets.UTF_8));
      String line = lines.readLine();
      if (line == null || !line.startsWith("connected ")) {
        throw new IOException("scale " + kind + ": the client JVM said " + line);
      }
      long connectNanos = Long.parseLong(line.split(" ")[2]);
      long heapConnected = heapAfterGc();
      double heapPerConnection = (heapConnected - heapBefore) / (double) n;
      double directPerConnection = (directMemory() - directBefore) / (double) n;
      progress.println("scale " + kind + ": " + n + " connected in "
          + connectNanos / 1_000_000 + " ms; exchanging");
      try (WaitSet<Connection> all = WaitSet.open()) {
        for (Connection c : connections) all.add(c);
        double heapPerMember = (heapAfterGc() - heapConnected) / (double) n;
        long start = System.nanoTime();
        for (int round = 0; round < ROUNDS; round++) exchange(connections, all, round);
        long exchangeNanos = System.nanoTime() - start;
        progress.println("scale " + kind + ": " + ROUNDS + " round trips on each in "
            + exchangeNanos / 1_000_000 + " ms; measuring one ready among many");
        List<Cost> costs = new ArrayList<>();
        for (int registered : registeredCounts(n)) {
          costs.add(cost(connections.subList(0, registered)));
        }
        return new Result(kind, n, connectNanos, exchangeNanos, heapPerConnection,
            directPerConnection, heapPerMember, costs);
      }
    } finally {
      for (Connection c : connections) c.close();
      if (peer != null) stopPeer(peer);
    }
  }

  /** 10, 1,000 and n, as far as n goes. */
  static List<Integer> registeredCounts(int n) {
    TreeSet<Integer> counts = new TreeSet<>(List.of(10, Math.min(1_000, n), n));
    return new ArrayList<>(counts);
  }

  private static Process startPeer(Address address, int n) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        ScalePeer.class.getName(), address.toString(), Integer.toString(n), KEY));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  private static void accept(Listener listener, Process peer, int n, List<Connection> into)
      throws IOException {
    long quietSince = System.nanoTime();
    while (into.size() < n) {
      try {
        into.add(listener.accept(Duration.ofSeconds(1)));
        quietSince = System.nanoTime();
      } catch (SocketTimeoutException e) {
        if (!peer.isAlive()) {
          throw new IOException("the client JVM exited with " + peer.exitValue() + " after "
              + into.size() + " of " + n + " connections");
        }
        if (System.nanoTime() - quietSince > STEP.toNanos()) {
          throw new IOException("no connection for " + STEP.toSeconds() + " s after "
              + into.size() + " of " + n);
        }
      }
    }
  }

  private static void stopPeer(Process peer) throws InterruptedException {
    try {
      peer.getOutputStream().close();
    } catch (IOException e) {
      // It is gone already.
    }
    if (!peer.waitFor(30, TimeUnit.SECONDS)) peer.destroyForcibly().waitFor();
  }

  /** Sends one message on every connection, then takes every echo back and checks it. */
  private static void exchange(List<Connection> connections, WaitSet<Connection> all, int round)
      throws IOException {
    Map<Connection, Integer> index = new IdentityHashMap<>();
    for (int i = 0; i < connections.size(); i++) {
      Connection c = connections.get(i);
      index.put(c, i);
      c.sendBytes(message(i, round));
    }
    int left = connections.size();
    while (left > 0) {
      List<Connection> ready = all.ready(STEP);
      if (ready.isEmpty()) {
        throw new IOException("round " + round + ": " + left + " of " + connections.size()
            + " echoes missing after " + STEP.toSeconds() + " s");
      }
      for (Connection c : ready) {
        byte[] echo = c.receiveBytes();
        int i = index.get(c);
        if (!Arrays.equals(echo, message(i, round))) {
          throw new IOException("round " + round + ", connection " + i + ": wrong echo "
              + new String(echo, StandardCharsets.US_ASCII));
        }
        left--;
      }
    }
  }

  private static byte[] message(int i, int round) {
    return ("message " + i + " round " + round).getBytes(StandardCharsets.US_ASCII);
  }

  /** One connection in the middle made ready (the peer echoes a poke), then both ways timed. */
  private static Cost cost(List<Connection> registered) throws IOException {
    Connection poked = registered.get(registered.size() / 2);
    poked.sendBytes(POKE);
    List<Connection> expected = List.of(poked);
    double waitSet;
    try (WaitSet<Connection> set = WaitSet.open()) {
      for (Connection c : registered) set.add(c);
      if (!set.ready(STEP).equals(expected)) throw new IOException("poke not echoed");
      waitSet = microsPerCall(() -> set.ready(Duration.ZERO), expected);
    }
    double wait = microsPerCall(() -> Wait.ready(registered, Duration.ZERO), expected);
    if (!Arrays.equals(poked.receiveBytes(), POKE)) throw new IOException("wrong poke echo");
    return new Cost(registered.size(), waitSet, wait);
  }

  private interface Call {
    List<Connection> run() throws IOException;
  }

  /** The best of three batches of at least 100 ms (and 5 calls) each, after a warm-up. */
  private static double microsPerCall(Call call, List<Connection> expected) throws IOException {
    double best = Double.MAX_VALUE;
    for (int batch = -1; batch < 3; batch++) { // batch -1 warms up
      int calls = 0;
      long start = System.nanoTime();
      long elapsed;
      do {
        if (!call.run().equals(expected)) throw new IOException("expected one ready");
        calls++;
        elapsed = System.nanoTime() - start;
      } while (calls < 5 || elapsed < 100_000_000L);
      if (batch >= 0) best = Math.min(best, elapsed / 1e3 / calls);
    }
    return best;
  }

  // ---------------------------------------------------------------------------------------------
  // Report

  static void report(List<Result> results, PrintWriter out) {
    out.println("## Scale: N authenticated connections in this process, client ends in a child JVM");
    out.println();
    out.println("| kind | connections | connect + handshake, all | " + ROUNDS
        + " round trips on each, all | heap per idle connection | heap per WaitSet member"
        + " | direct buffers per connection |");
    out.println("|---|---:|---:|---:|---:|---:|---:|");
    for (Result r : results) {
      out.printf("| %s | %,d | %,d ms | %,d ms | %,.0f B | %,.0f B | %,.0f B |%n", r.kind,
          r.connections, r.connectNanos / 1_000_000, r.exchangeNanos / 1_000_000,
          r.heapPerConnection, r.heapPerMember, r.directPerConnection);
    }
    out.println();
    out.println("## One connection ready among many registered (µs per call, ratio to 10)");
    out.println();
    out.println("| kind | registered | WaitSet.ready | ratio | Wait.ready | ratio |");
    out.println("|---|---:|---:|---:|---:|---:|");
    for (Result r : results) {
      Cost ten = r.costs.get(0);
      for (Cost c : r.costs) {
        out.printf("| %s | %,d | %.1f | x%.1f | %.1f | x%.1f |%n", r.kind, c.registered,
            c.waitSetMicros, c.waitSetMicros / ten.waitSetMicros, c.waitMicros,
            c.waitMicros / ten.waitMicros);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static long heapAfterGc() throws InterruptedException {
    var memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(50);
      used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  private static long directMemory() {
    for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
      if (pool.getName().equals("direct")) return pool.getMemoryUsed();
    }
    return 0;
  }

  /** The soft limit on open descriptors (ulimit -n), from /proc; 1024 where it cannot tell. */
  static long softDescriptorLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Not Linux, or an unexpected layout: assume the common default.
    }
    return 1024;
  }
}
