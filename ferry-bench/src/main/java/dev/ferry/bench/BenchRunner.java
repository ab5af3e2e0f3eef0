package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Pipe;
import dev.ferry.pickle.PickleCodec;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The side-by-side harness behind {@code ferry bench}: Ferry's transports measured in the same run,
 * on the same machine and with the same message sizes as a C program over a socketpair, a raw JDK
 * {@code SocketChannel}, and CPython's {@code multiprocessing.connection}.
 *
 * <p>Every configuration runs once per repetition, round-robin, so that a drift in the machine's
 * load hits all of them alike; the report gives the median, min and max over repetitions and each
 * median as a ratio to the reference of its workload (the C program where there is one).
 */
public final class BenchRunner {
  static final String C_PINGPONG = "C socketpair, 2 processes";
  static final String C_SIMPLE = "C socketpair, read(4)+read(n)";
  static final String C_BUFFERED = "C socketpair, 64 KiB buffered read";
  static final String C_TCP_PINGPONG = "C TCP loopback, 2 processes";
  static final String C_TCP_BUFFERED = "C TCP loopback, 64 KiB buffered read";
  static final String JDK_UNIX = "JDK SocketChannel unix, blocking";
  static final String FERRY_PIPE = "Ferry Pipe";
  static final String FERRY_UNIX = "Ferry unix path";
  static final String FERRY_ABSTRACT = "Ferry abstract name";
  static final String FERRY_TCP = "Ferry TCP loopback";
  static final String FERRY_PROCESS = "Ferry unix path, Java↔Java 2 JVMs";
  static final String ASYNC_SENDS = ", async sends";
  static final String C_SNDBUF = ", SO_SNDBUF 1 MiB (2 MiB)";

  /** Ferry's SocketTransport.LARGE_MESSAGE and LARGE_SEND_BUFFER, for the C twin. */
  private static final int LARGE_MESSAGE = 256 * 1024;
  private static final int LARGE_SEND_BUFFER = 1024 * 1024;
  static final String SPINNING = ", receiveSpin 100 µs";

  /** Receives poll 100 µs before they sleep: a busy core for one wake-up fewer per message. */
  private static final ConnectionOptions SPIN =
      ConnectionOptions.builder().receiveSpin(Duration.ofNanos(100_000)).build();

  private static final int[] SIZES = {64, 4 * 1024, 64 * 1024, 1024 * 1024};
  private static final int BIG = 100 * 1024 * 1024;
  private static final int[] WAIT_COUNTS = {10, 1_000, 10_000};
  private static final Map<String, Object> SMALL_DICT = smallDict();

  private final BenchOptions options;
  private final PrintWriter progress;
  private final Path dir;
  private final Map<String, Row> rows = new LinkedHashMap<>();
  private final List<Case> cases = new ArrayList<>();
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private final PickleCodec codec = PickleCodec.standard();
  final PeerLinks peers;

  /** One configuration of one workload: a trial gives one value per metric. */
  private record Case(String workload, String configuration, List<Metric> metrics, Trial trial) {}

  @FunctionalInterface
  interface Trial {
    double[] run() throws Exception;
  }

  private BenchRunner(BenchOptions options, PrintWriter progress, Path dir) {
    this.options = options;
    this.progress = progress;
    this.dir = dir;
    this.peers = new PeerLinks(dir, codec, this::say);
  }

  /**
   * Runs every workload, prints the Markdown table on {@code out} and progress on
   * {@code progress}, and writes the JSON and PNG files the options ask for. Blocks until done.
   */
  public static void run(BenchOptions options, PrintStream out, PrintStream progress)
      throws IOException, InterruptedException {
    run(options, new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true),
        new PrintWriter(new OutputStreamWriter(progress, StandardCharsets.UTF_8), true));
  }

  /** As {@link #run(BenchOptions, PrintStream, PrintStream)}, for callers that hold writers. */
  public static void run(BenchOptions options, PrintWriter out, PrintWriter progress)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("ferry-bench-");
    BenchRunner runner = new BenchRunner(options, progress, dir);
    try {
      runner.plan();
      runner.measure();
    } finally {
      runner.closeAll();
      deleteTree(dir);
    }
    List<Row> results = new ArrayList<>(runner.rows.values());
    Report.computeRatios(results);
    Report.markdown(results, options, out);
    out.flush();
    if (options.json().isPresent()) Report.json(results, options, options.json().get());
    if (options.plot().isPresent()) plot(results, options.plot().get(), progress);
  }

  /**
   * The chart comes last, after the table and the JSON: a runtime that cannot draw it (no font
   * library, no java.desktop module) costs one line, not the run's figures.
   */
  private static void plot(List<Row> results, Path file, PrintWriter progress)
      throws IOException {
    try {
      BarChart.write(results, file).ifPresent(progress::println);
    } catch (LinkageError e) {
      throw new IOException("plot not written to " + file
          + ": this java runtime cannot draw a png (" + e.getMessage() + ")", e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Message counts

  int roundTrips() {
    return options.quick() ? 2_000 : 20_000;
  }

  int oneWayCount(int size) {
    // 1 GiB: a trial of 1 MiB messages then lasts about 0.1 s; with 256 MiB (25 ms) the
    // scheduler's noise spread one configuration's runs over a factor of two.
    long budget = options.quick() ? 32L << 20 : 1L << 30;
    int most = options.quick() ? 20_000 : 200_000;
    return (int) Math.max(options.quick() ? 16 : 64, Math.min(most, budget / size));
  }

  private int objectCount() {
    return options.quick() ? 5_000 : 50_000;
  }

  private int handshakes() {
    return options.quick() ? 100 : 1_000;
  }

  private int waitCalls(int connections) {
    int calls = (options.quick() ? 20_000 : 200_000) / connections;
    return Math.max(options.quick() ? 5 : 20, calls);
  }

  // ---------------------------------------------------------------------------------------------
  // Planning: set up what can be set up, and say why the rest is skipped.

  private void plan() throws InterruptedException {
    Optional<Path> cref = setUp("compiling the C reference", () -> References.compileC(dir));
    Map<String, Path> pythons = new LinkedHashMap<>();
    for (String minor : List.of("3.11", "3.13")) {
      References.pyenvPython(minor).ifPresent(p -> pythons.put(minor, p));
    }
    Optional<Path> script = setUp("extracting the CPython script",
        () -> References.extract("cpython_bench.py", dir));

    Map<String, Optional<Link>> links = new LinkedHashMap<>();
    links.put(JDK_UNIX, setUp(JDK_UNIX, peers::jdkLink));
    links.put(FERRY_PIPE, setUp(FERRY_PIPE, () -> {
      Pipe.Duplex pipe = Pipe.duplex();
      return peers.inProcessPeer(FERRY_PIPE, pipe.first(), pipe.second());
    }));
    links.put(FERRY_UNIX, setUp(FERRY_UNIX,
        () -> peers.listenerLink(FERRY_UNIX, new Address.Unix(dir.resolve("ferry.sock")))));
    links.put(FERRY_ABSTRACT, setUp(FERRY_ABSTRACT, () -> peers.listenerLink(FERRY_ABSTRACT,
        new Address.Abstract("ferry-bench-" + ProcessHandle.current().pid()))));
    links.put(FERRY_TCP, setUp(FERRY_TCP,
        () -> peers.listenerLink(FERRY_TCP, new Address.Tcp("127.0.0.1", 0))));
    links.put(FERRY_PROCESS, setUp(FERRY_PROCESS, () -> peers.processLink(FerryLink::new)));
    // The same two with AsyncConnection sending: queued small frames leave in one write.
    Map<String, Optional<Link>> asyncLinks = new LinkedHashMap<>();
    asyncLinks.put(FERRY_UNIX + ASYNC_SENDS, setUp(FERRY_UNIX + ASYNC_SENDS,
        () -> peers.listenerLink(FERRY_UNIX + ASYNC_SENDS, new Address.Unix(dir.resolve("async.sock")),
            AsyncSendLink::new)));
    asyncLinks.put(FERRY_PROCESS + ASYNC_SENDS, setUp(FERRY_PROCESS + ASYNC_SENDS,
        () -> peers.processLink(AsyncSendLink::new)));

    String rtt = "64 B round trip";
    addC(rtt, C_PINGPONG, cref, List.of(Metric.MEDIAN_US, Metric.P99_US),
        bin -> latency(References.run(References.command(bin, "pingpong", roundTrips(), 64))));
    // Ferry's TCP rows against C over TCP: loopback TCP costs more in the kernel than AF_UNIX.
    addC(rtt, C_TCP_PINGPONG, cref, List.of(Metric.MEDIAN_US, Metric.P99_US),
        bin -> latency(References.run(References.command(bin, "pingpong-tcp", roundTrips(), 64))));
    referenceOf(rtt, FERRY_TCP, C_TCP_PINGPONG);
    links.forEach((name, link) -> add(rtt, name, link, List.of(Metric.MEDIAN_US, Metric.P99_US),
        l -> roundTrip(l, roundTrips())));
    // Both ends spin: no thread sleeps between messages. Against the C pair, which sleeps.
    Optional<Link> spinningLink = setUp(FERRY_UNIX + SPINNING, () -> peers.listenerLink(
        FERRY_UNIX + SPINNING, new Address.Unix(dir.resolve("spin.sock")), SPIN, FerryLink::new));
    add(rtt, FERRY_UNIX + SPINNING, spinningLink, List.of(Metric.MEDIAN_US, Metric.P99_US),
        l -> roundTrip(l, roundTrips()));
    pythons.forEach((minor, python) -> addPython(rtt, "CPython " + minor + " Pipe", script,
        List.of(Metric.MEDIAN_US, Metric.P99_US), s -> latency(References.run(
            References.command(python, s, "pingpong", roundTrips() / 4, 64)))));
    reference(rtt, C_PINGPONG);

    for (int size : SIZES) {
      String workload = "one-way " + sizeName(size);
      int count = oneWayCount(size);
      List<Metric> metrics = List.of(Metric.MESSAGES_PER_S, Metric.MB_PER_S);
      for (String mode : List.of("simple", "buffered")) {
        addC(workload, mode.equals("simple") ? C_SIMPLE : C_BUFFERED, cref, metrics,
            bin -> rates(count, size, References.field(References.run(
                References.command(bin, "oneway", count, size, mode)), "elapsed_ns")));
      }
      addC(workload, C_TCP_BUFFERED, cref, metrics,
          bin -> rates(count, size, References.field(References.run(
              References.command(bin, "oneway-tcp", count, size, "buffered")), "elapsed_ns")));
      referenceOf(workload, FERRY_TCP, C_TCP_BUFFERED);
      if (size >= LARGE_MESSAGE) {
        // Ferry raises a Unix socket's send buffer before such messages: C with the same buffer,
        // so that the table shows what that alone is worth.
        addC(workload, C_BUFFERED + C_SNDBUF, cref, metrics,
            bin -> rates(count, size, References.field(References.run(References.command(
                bin, "oneway", count, size, "buffered", LARGE_SEND_BUFFER)), "elapsed_ns")));
      }
      links.forEach((name, link) -> add(workload, name, link, metrics,
          l -> rates(count, size, oneWay(l, count, size))));
      asyncLinks.forEach((name, link) -> add(workload, name, link, metrics,
          l -> rates(count, size, oneWay(l, count, size))));
      pythons.forEach((minor, python) -> addPython(workload, "CPython " + minor + " Pipe", script,
          metrics, s -> rates(count, size, References.field(References.run(
              References.command(python, s, "oneway", count, size)), "elapsed_ns"))));
      reference(workload, C_BUFFERED);
    }

    String big = "one 100 MiB message";
    addC(big, C_BUFFERED, cref, List.of(Metric.MB_PER_S), bin -> new double[] {megabytesPerSecond(
        BIG, References.field(References.run(References.command(bin, "oneway", 1, BIG, "buffered")),
            "elapsed_ns"))});
    addC(big, C_BUFFERED + C_SNDBUF, cref, List.of(Metric.MB_PER_S), bin -> new double[] {
        megabytesPerSecond(BIG, References.field(References.run(References.command(bin, "oneway",
            1, BIG, "buffered", LARGE_SEND_BUFFER)), "elapsed_ns"))});
    for (String name : List.of(JDK_UNIX, FERRY_PIPE, FERRY_PROCESS)) {
      add(big, name, links.get(name), List.of(Metric.MB_PER_S),
          l -> new double[] {megabytesPerSecond(BIG, PeerLoop.oneWay(l, 1, BIG))});
    }
    pythons.forEach((minor, python) -> addPython(big, "CPython " + minor + " Pipe", script,
        List.of(Metric.MB_PER_S), s -> new double[] {megabytesPerSecond(BIG, References.field(
            References.run(References.command(python, s, "oneway", 1, BIG)), "elapsed_ns"))}));
    reference(big, C_BUFFERED);

    String python = pythons.containsKey("3.13") ? "3.13" : pythons.keySet().stream().findFirst()
        .orElse("3.13");
    String pickleWorkload = "small dict, pickle encode+decode";
    int objects = objectCount();
    cases.add(new Case(pickleWorkload, "Ferry PickleCodec", List.of(Metric.OPS_PER_S),
        () -> new double[] {perSecond(objects, pickleLoop(objects))}));
    pythons.forEach((minor, py) -> addPython(pickleWorkload, "CPython " + minor + " pickle",
        script, List.of(Metric.OPS_PER_S), s -> new double[] {perSecond(objects, References.field(
            References.run(References.command(py, s, "pickle", objects)), "elapsed_ns"))}));
    reference(pickleWorkload, "CPython " + python + " pickle");

    String dictWorkload = "small dict one-way, send/receive";
    for (String name : List.of(FERRY_PIPE, FERRY_PROCESS)) {
      add(dictWorkload, name + " + PickleCodec", links.get(name), List.of(Metric.MESSAGES_PER_S),
          l -> new double[] {perSecond(objects, objectsOneWay((FerryLink) ((PeeredLink) l).unwrap(), objects))});
    }
    pythons.forEach((minor, py) -> addPython(dictWorkload, "CPython " + minor + " Pipe", script,
        List.of(Metric.MESSAGES_PER_S), s -> new double[] {perSecond(objects, References.field(
            References.run(References.command(py, s, "dict", objects)), "elapsed_ns"))}));
    reference(dictWorkload, "CPython " + python + " Pipe");

    String handshake = "handshake, connect + auth";
    int connects = handshakes();
    cases.add(new Case(handshake, "Ferry abstract name, sha256", List.of(Metric.OPS_PER_S),
        () -> new double[] {perSecond(connects, ListenerLoops.handshakeLoop(connects))}));
    pythons.forEach((minor, py) -> addPython(handshake, "CPython " + minor + " abstract name",
        script, List.of(Metric.OPS_PER_S), s -> new double[] {perSecond(connects, References.field(
            References.run(References.command(py, s, "handshake", connects)), "elapsed_ns"))}));
    reference(handshake, "CPython " + python + " abstract name");

    long fdLimit = ScaleBench.softDescriptorLimit();
    for (int n : WAIT_COUNTS) {
      String workload = "Wait, " + n + " connections, 1 ready";
      int calls = waitCalls(n);
      // Each pipe holds two descriptors; leave room for the rest of the process.
      String tooFew = 2L * n + 256 > fdLimit
          ? "skipped: needs " + (2L * n + 256) + " descriptors, ulimit -n is " + fdLimit : null;
      Trial ferry = () -> new double[] {ListenerLoops.waitLoop(n, calls, false) / 1e3 / calls};
      cases.add(new Case(workload, "Ferry Wait over Pipes", List.of(Metric.US_PER_CALL),
          tooFew == null ? ferry : skip(tooFew)));
      Trial set = () -> new double[] {ListenerLoops.waitLoop(n, calls, true) / 1e3 / calls};
      cases.add(new Case(workload, "Ferry WaitSet over Pipes", List.of(Metric.US_PER_CALL),
          tooFew == null ? set : skip(tooFew + " (ferry bench --scale 10000 runs it with the"
              + " client ends in a child JVM)")));
      pythons.forEach((minor, py) -> addPython(workload, "CPython " + minor + " wait", script,
          List.of(Metric.US_PER_CALL), tooFew != null ? s -> { throw new SkipException(tooFew); }
              : s -> new double[] {References.field(References.run(
                  References.command(py, s, "wait", calls, n)), "elapsed_ns") / 1e3 / calls}));
      reference(workload, "CPython " + python + " wait");
    }

    String clients = "CPython client, 64 B echo";
    int echoes = roundTrips() / 2;
    pythons.forEach((minor, py) -> {
      String pythonServer = "CPython " + minor + " client → CPython " + minor + " server";
      addPython(clients, pythonServer, script, List.of(Metric.MESSAGES_PER_S),
          s -> new double[] {perSecond(echoes, pythonClientAgainstPython(py, s, echoes))});
      addPython(clients, "CPython " + minor + " client → Ferry server", script,
          List.of(Metric.MESSAGES_PER_S), s -> new double[] {perSecond(echoes,
              pythonClientAgainstFerry(py, s, echoes, ConnectionOptions.defaults()))});
      referenceOf(clients, "CPython " + minor + " client → Ferry server", pythonServer);
      String spinning = "CPython " + minor + " client → Ferry server" + SPINNING;
      addPython(clients, spinning, script, List.of(Metric.MESSAGES_PER_S),
          s -> new double[] {perSecond(echoes, pythonClientAgainstFerry(py, s, echoes, SPIN))});
      referenceOf(clients, spinning, pythonServer);
      referenceOf(clients, pythonServer, pythonServer);
    });
    if (pythons.isEmpty()) {
      cases.add(new Case(clients, "CPython", List.of(Metric.MESSAGES_PER_S),
          skip("skipped: no CPython 3.11 or 3.13 under $(pyenv root)/versions")));
    }
    new LaneBench(this, dir).plan(cref, pythons);
    BulkBench.plan(this, dir, Optional.ofNullable(pythons.get("3.11")), options.quick());
  }

  /** Adds a case that another class plans ({@link BulkBench}, {@link LaneBench}). */
  void addCase(String workload, String configuration, List<Metric> metrics, Trial trial) {
    cases.add(new Case(workload, configuration, metrics, trial));
  }

  interface Setup<T> {
    T get() throws Exception;
  }

  /** Whatever failed here becomes the skip reason of every case that needs it. */
  private final Map<String, String> setupFailures = new LinkedHashMap<>();

  <T> Optional<T> setUp(String what, Setup<T> setup) throws InterruptedException {
    say("setting up: " + what);
    try {
      T value = setup.get();
      if (value instanceof AutoCloseable closeable) resources.push(closeable);
      return Optional.of(value);
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      setupFailures.put(what, "skipped: " + e.getMessage());
      say("  skipped: " + e);
      return Optional.empty();
    }
  }

  interface LinkTrial {
    double[] run(Link link) throws Exception;
  }

  private interface PathTrial {
    double[] run(Path path) throws Exception;
  }

  void add(String workload, String configuration, Optional<Link> link,
      List<Metric> metrics, LinkTrial trial) {
    cases.add(new Case(workload, configuration, metrics, link.isPresent()
        ? () -> trial.run(link.get())
        : skip(setupFailures.getOrDefault(configuration, "skipped: not set up"))));
  }

  private void addC(String workload, String configuration, Optional<Path> binary,
      List<Metric> metrics, PathTrial trial) {
    cases.add(new Case(workload, configuration, metrics, binary.isPresent()
        ? () -> trial.run(binary.get())
        : skip(setupFailures.getOrDefault("compiling the C reference", "skipped: no C"))));
  }

  private void addPython(String workload, String configuration, Optional<Path> script,
      List<Metric> metrics, PathTrial trial) {
    cases.add(new Case(workload, configuration, metrics, script.isPresent()
        ? () -> trial.run(script.get())
        : skip("skipped: no CPython script")));
  }

  static Trial skip(String reason) {
    return () -> {
      throw new SkipException(reason);
    };
  }

  /** A case that cannot run here; its message is printed in the table. */
  static final class SkipException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SkipException(String reason) {
      super(reason);
    }
  }

  /** Makes {@code configuration} the reference of every row of {@code workload}. */
  private final Map<String, String> references = new LinkedHashMap<>();

  void reference(String workload, String configuration) {
    references.put(workload, configuration);
  }

  /** Per-configuration references, where a workload compares pairs rather than all to one. */
  private final Map<String, String> configurationReferences = new LinkedHashMap<>();

  void referenceOf(String workload, String configuration, String reference) {
    configurationReferences.put(workload + "\u0000" + configuration, reference);
  }

  private List<Row> rowsFor(Case c) {
    List<Row> result = new ArrayList<>();
    for (Metric metric : c.metrics) {
      String key = c.workload + "\u0000" + c.configuration + "\u0000" + metric.name();
      result.add(rows.computeIfAbsent(key, k -> new Row(c.workload, c.configuration, metric)));
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // Measuring

  private void measure() throws InterruptedException {
    cases.removeIf(c -> !options.runs(c.workload));
    if (cases.isEmpty()) {
      throw new IllegalArgumentException("no workload matches " + options.only().orElseThrow());
    }
    for (Case c : cases) rowsFor(c);
    rows.values().forEach(r -> {
      r.reference = configurationReferences.getOrDefault(r.workload + "\u0000" + r.configuration,
          references.get(r.workload));
    });
    int total = options.repetitions();
    for (int rep = 1; rep <= total; rep++) {
      for (Case c : cases) {
        List<Row> caseRows = rowsFor(c);
        if (caseRows.get(0).skipped != null) continue;
        say(String.format("[%d/%d] %s: %s", rep, total, c.workload, c.configuration));
        try {
          double[] values = c.trial.run();
          for (int i = 0; i < values.length; i++) caseRows.get(i).samples.add(values[i]);
        } catch (SkipException e) {
          caseRows.forEach(r -> r.skipped = e.getMessage());
        } catch (InterruptedException e) {
          throw e;
        } catch (Exception e) {
          say("  failed: " + e);
          caseRows.forEach(r -> r.skipped = "failed: " + e.getMessage());
        }
      }
    }
  }

  static double[] roundTrip(Link link, int count) throws IOException {
    PeerLoop.pingPong(link, Math.max(200, count / 4), 64); // warm-up
    long[] sorted = Stats.sortedCopy(PeerLoop.pingPong(link, count, 64));
    return new double[] {Stats.quantile(sorted, 0.5) / 1e3, Stats.quantile(sorted, 0.99) / 1e3};
  }

  static long oneWay(Link link, int count, int size) throws IOException {
    PeerLoop.oneWay(link, Math.max(1, count / 4), size); // warm-up
    return PeerLoop.oneWay(link, count, size);
  }

  private long objectsOneWay(FerryLink link, int count) throws IOException {
    PeerLoop.objects(link, Math.max(1, count / 4), SMALL_DICT, codec); // warm-up
    return PeerLoop.objects(link, count, SMALL_DICT, codec);
  }

  private long pickleLoop(int count) throws IOException {
    Object sink = null;
    for (int i = 0; i < count / 4; i++) sink = codec.loads(codec.dumps(SMALL_DICT)); // warm-up
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) sink = codec.loads(codec.dumps(SMALL_DICT));
    long elapsed = System.nanoTime() - start;
    // The decoded dict's classes differ from the ones built here; its text must not.
    if (!SMALL_DICT.toString().equals(String.valueOf(sink))) throw new IOException("pickle round trip changed the dict: " + sink);
    return elapsed;
  }

  private long pythonClientAgainstFerry(Path python, Path script, int count,
      ConnectionOptions options) throws Exception {
    Address address = new Address.Unix(dir.resolve("ferry-echo.sock"));
    try (Listener listener = Listener.bind(address, options)) {
      Thread server = startThread("ferry-bench-echo", () -> {
        try (Connection c = listener.accept()) {
          PeerLoop.echoUntilEnd(new FerryLink(c));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      String json = References.run(References.command(python, script, "client",
          dir.resolve("ferry-echo.sock"), count, 64));
      server.join();
      return References.field(json, "elapsed_ns");
    }
  }

  private long pythonClientAgainstPython(Path python, Path script, int count) throws Exception {
    Path socket = dir.resolve("python-echo.sock");
    Process server = new ProcessBuilder(References.command(python, script, "server", socket))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      BufferedReader lines = new BufferedReader(
          new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String ready = lines.readLine();
      if (ready == null || !ready.contains("ready")) throw new IOException("python server failed");
      String json = References.run(References.command(python, script, "client", socket, count, 64));
      if (!server.waitFor(30, TimeUnit.SECONDS)) throw new IOException("python server hangs");
      return References.field(json, "elapsed_ns");
    } finally {
      server.destroy();
      Files.deleteIfExists(socket);
    }
  }

  private void closeAll() {
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Exception e) {
        say("closing: " + e);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Small helpers

  void say(String line) {
    progress.println(line);
    progress.flush();
  }

  static Thread startThread(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  private static double[] latency(String json) throws IOException {
    return new double[] {References.field(json, "median_ns") / 1e3,
        References.field(json, "p99_ns") / 1e3};
  }

  static double[] rates(int count, int size, long nanos) {
    return new double[] {perSecond(count, nanos), megabytesPerSecond((long) count * size, nanos)};
  }

  static double perSecond(long count, long nanos) {
    return count * 1e9 / nanos;
  }

  /** MB = 10^6 bytes. */
  private static double megabytesPerSecond(long bytes, long nanos) {
    return bytes * 1e3 / nanos;
  }

  static String sizeName(int size) {
    if (size >= 1 << 20) return (size >> 20) + " MiB";
    if (size >= 1 << 10) return (size >> 10) + " KiB";
    return size + " B";
  }

  private static Map<String, Object> smallDict() {
    // Python: {"id": 42, "name": "ferry", "ok": True, "score": 0.5, "tags": ["a", "b"]}
    Map<String, Object> dict = new LinkedHashMap<>();
    dict.put("id", 42L);
    dict.put("name", "ferry");
    dict.put("ok", true);
    dict.put("score", 0.5);
    dict.put("tags", List.of("a", "b"));
    return dict;
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
