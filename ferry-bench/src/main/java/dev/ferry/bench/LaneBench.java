package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.SharedMemoryLane;
import dev.ferry.handle.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The shared-memory lane's rows (issue #17, docs/LANE.md), beside the C socketpair and Ferry's
 * socket rows of the same run: a 64 B round trip and one-way rates between two JVMs whose
 * receives spin, the CPU an idle lane connection costs on each side once the spin budget is
 * spent, and a CPython client through {@code ferry_shm} against the stock CPython client.
 */
final class LaneBench {
  static final String LANE_PROCESS = "Ferry shared-memory lane, Java↔Java 2 JVMs, spinning";

  static final String LANE_PROCESS_YIELDING =
      "Ferry shared-memory lane, Java↔Java 2 JVMs, spin 20 µs then yield";

  /** Both ends spin up to 200 ms on an empty ring: a measurement's next message comes sooner. */
  static final ConnectionOptions SPINNING_LANE = ConnectionOptions.builder()
      .sharedMemoryLane(SharedMemoryLane.builder().spin(Duration.ofMillis(200)).build()).build();

  /**
   * Spin briefly, then yield the core: when the two ends outnumber the free cores (this bench's
   * 2-core machines), a spinning receiver holds the core its sender needs.
   */
  static final ConnectionOptions YIELDING_LANE = ConnectionOptions.builder()
      .sharedMemoryLane(SharedMemoryLane.builder().spin(Duration.ofNanos(20_000))
          .yieldTime(Duration.ofMillis(200)).build()).build();

  /** The default lane: no spin, so idle costs nothing once parked. */
  private static final ConnectionOptions PARKING_LANE = ConnectionOptions.builder()
      .sharedMemoryLane(SharedMemoryLane.defaults()).build();

  private static final Metric CPU = new Metric("CPU", "% of a core", false);

  private final BenchRunner runner;
  private final Path dir;

  LaneBench(BenchRunner runner, Path dir) {
    this.runner = runner;
    this.dir = dir;
  }

  void plan(Optional<Path> cref, Map<String, Path> pythons) throws InterruptedException {
    Optional<Link> lane = runner.setUp(LANE_PROCESS, () -> runner.peers.processLink(FerryLink::new,
        SPINNING_LANE, "lane.sock", "lane"));
    runner.add("64 B round trip", LANE_PROCESS, lane, List.of(Metric.MEDIAN_US, Metric.P99_US),
        l -> BenchRunner.roundTrip(l, runner.roundTrips()));
    Optional<Link> yielding = runner.setUp(LANE_PROCESS_YIELDING, () -> runner.peers.processLink(
        FerryLink::new, YIELDING_LANE, "lane-yield.sock", "lane-yield"));
    for (int size : new int[] {64, 4 * 1024, 1024 * 1024}) {
      String workload = "one-way " + BenchRunner.sizeName(size);
      int count = runner.oneWayCount(size);
      List<Metric> metrics = List.of(Metric.MESSAGES_PER_S, Metric.MB_PER_S);
      runner.add(workload, LANE_PROCESS, lane, metrics,
          l -> BenchRunner.rates(count, size, BenchRunner.oneWay(l, count, size)));
      runner.add(workload, LANE_PROCESS_YIELDING, yielding, metrics,
          l -> BenchRunner.rates(count, size, BenchRunner.oneWay(l, count, size)));
    }
    planIdle();
    planPython(pythons);
  }

  /**
   * An idle lane connection between two JVMs, default lane (no spin): each side's process CPU
   * over a few seconds while a receive waits on each end.
   */
  private void planIdle() throws InterruptedException {
    String workload = "idle shared-memory lane connection, CPU of each side";
    Optional<Link> idle = runner.setUp("idle " + LANE_PROCESS, () -> runner.peers.processLink(
        FerryLink::new, PARKING_LANE, "idle.sock"));
    for (String side : List.of("this JVM", "peer JVM")) {
      String configuration = "Ferry shared-memory lane, default idle strategy, " + side;
      runner.add(workload, configuration, idle, List.of(CPU), l -> new double[] {
          idleCpu(((FerryLink) ((PeeredLink) l).unwrap()).connection, side.equals("peer JVM"))});
    }
  }

  /**
   * Percent of one core that {@code connection}'s process (ours) or its peer's used in 3 s while
   * both wait: ours in a 4 s poll on the lane, the peer in its receive for the next command.
   */
  private static double idleCpu(Connection connection, boolean peer) throws Exception {
    long pid = peer ? connection.peerCredentials().orElseThrow().pid() : ProcessHandle.current().pid();
    Thread poller = new Thread(() -> {
      try {
        connection.poll(Duration.ofSeconds(4));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, "ferry-bench-idle");
    poller.start();
    Thread.sleep(500); // past any spin budget
    long before = cpuTicks(pid);
    long start = System.nanoTime();
    Thread.sleep(3000);
    long ticks = cpuTicks(pid) - before;
    double seconds = (System.nanoTime() - start) / 1e9;
    poller.join();
    return ticks * 100.0 / CLOCK_TICKS / seconds;
  }

  /** USER_HZ, which /proc reports in; 100 on every Linux Ferry runs on. */
  private static final double CLOCK_TICKS = 100;

  /** utime + stime of process {@code pid} from /proc/PID/stat. */
  private static long cpuTicks(long pid) throws IOException {
    String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
    // The command may hold spaces: fields count from after its closing parenthesis.
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** CPython through ferry_shm against the same Ferry server as the stock client's row. */
  private void planPython(Map<String, Path> pythons) {
    String workload = "CPython client, 64 B echo";
    int echoes = runner.roundTrips() / 2;
    pythons.forEach((minor, python) -> {
      String configuration = "CPython " + minor + " ferry_shm client → Ferry server, shared-memory lane";
      runner.referenceOf(workload, configuration, "CPython " + minor + " client → Ferry server");
      runner.addCase(workload, configuration, List.of(Metric.MESSAGES_PER_S),
          () -> new double[] {BenchRunner.perSecond(echoes, pythonLaneClient(python, echoes))});
    });
  }

  private long pythonLaneClient(Path python, int count) throws Exception {
    Path helpers = Files.createDirectories(dir.resolve("helpers"));
    References.extract(ChildProcess.class, "ferry_shm.py", helpers); // ferry-core ships it there
    Path script = dir.resolve("lane_client.py");
    Files.writeString(script, CLIENT, StandardCharsets.UTF_8);
    Path socket = dir.resolve("lane-echo.sock");
    try (Listener listener = Listener.bind(new Address.Unix(socket), SPINNING_LANE)) {
      Thread server = BenchRunner.startThread("ferry-bench-lane-echo", () -> {
        try (Connection c = listener.accept(Duration.ofSeconds(30))) {
          PeerLoop.echoUntilEnd(new FerryLink(c));
        } catch (IOException e) {
          runner.say("lane echo failed: " + e);
        }
      });
      String json = References.run(References.command(python, script, helpers, socket, count, 64));
      server.join(30_000);
      return References.field(json, "elapsed_ns");
    }
  }

  /**
   * The CPython side: the same loop as cpython_bench.py's client, through ferry_shm, spinning
   * 200 ms as the Ferry server does: a ferry_shm receive that sleeps at once pays a doorbell and a
   * wake-up each message, and the lane was then no faster than the socket (1.1x its msg/s).
   */
  private static final String CLIENT = String.join("\n",
      "import json, sys, time",
      "sys.path.insert(0, sys.argv[1])",
      "import ferry_shm",
      "address, count, size = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])",
      "c = ferry_shm.Client(address, spin_us=200000)",
      "msg = b'x' * size",
      "for _ in range(max(100, count // 4)):",
      "    c.send_bytes(msg); c.recv_bytes()",
      "start = time.perf_counter_ns()",
      "for _ in range(count):",
      "    c.send_bytes(msg); c.recv_bytes()",
      "elapsed = time.perf_counter_ns() - start",
      "c.close()",
      "print(json.dumps({'elapsed_ns': elapsed}))",
      "");
}
