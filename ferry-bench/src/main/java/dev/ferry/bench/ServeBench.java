package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.ConnectionOptions;
import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The server workload behind {@code ferry bench --serve N}: starts a server process, connects N
 * authenticated clients to it from this process (on event loops, in waves), makes {@link #ROUNDS}
 * checked round trips on every one of them at once, and reads the server's thread count and
 * resident memory from {@code /proc/PID/status}: threads from its {@code listening on} line to N
 * clients served, memory from idle (after a warm-up with a tenth of N, closed again) to N. Unix
 * sockets, then TCP; each kind twice: the measured server (the command it is given, such as
 * {@code ferry echo}) and, as the reference, {@link LoopEchoServer}, the library's own minimal
 * echo on the same event loops, started the same way.
 *
 * <p>Each process holds one descriptor per client (the clients here, the server there), so
 * {@code ulimit -n} must exceed N by a few hundred; a lower limit fails the run at once with a
 * line that says so.
 */
public final class ServeBench {
  /** Round trips each client makes, all clients at once. */
  static final int ROUNDS = 3;
  static final String REFERENCE = "reference: library async echo";

  /** Connects in flight at once: under the 128 of ferry echo's listen backlog. */
  private static final int WAVE = 100;
  private static final String KEY_HEX = "666572727920626e6368207365727665";
  private static final Duration STEP = Duration.ofSeconds(60);

  private ServeBench() {}

  /** What one server gave with one kind of socket. */
  record Result(String kind, String server, int clients, long connectNanos, long exchangeNanos,
      Status listening, Status idle, Status serving) {
    /** From the {@code listening on} line, before any client, to N served at once. */
    int threadsAdded() {
      return serving.threads - listening.threads;
    }

    double rssPerClientBytes() {
      return (serving.rssKiB - idle.rssKiB) * 1024.0 / clients;
    }
  }

  /** A process's {@code Threads} and {@code VmRSS} lines. */
  record Status(int threads, long rssKiB) {}

  /**
   * Runs the workload with {@code clients} per kind against {@code server} (a command line to
   * which {@code --address ADDR --authkey-hex KEY} is added) and the reference; prints Markdown
   * on {@code out}, progress on {@code progress}. Blocks until done.
   */
  public static void run(int clients, String name, List<String> server, PrintWriter out,
      PrintWriter progress) throws IOException, InterruptedException {
    report(measure(clients, name, server, progress), out);
    out.flush();
  }

  static List<Result> measure(int clients, String name, List<String> server,
      PrintWriter progress) throws IOException, InterruptedException {
    long limit = ScaleBench.softDescriptorLimit();
    if (clients + 300L > limit) {
      throw new IOException("serve bench: " + clients + " clients need about "
          + (clients + 300) + " descriptors in each process, ulimit -n is " + limit);
    }
    Path dir = Files.createTempDirectory("ferry-serve-");
    try {
      List<Result> results = new ArrayList<>();
      for (String kind : List.of("unix", "tcp")) {
        for (boolean reference : new boolean[] {false, true}) {
          String address = kind.equals("tcp") ? "tcp:127.0.0.1:0"
              : "unix:" + dir.resolve((reference ? "reference" : "server") + ".sock");
          List<String> command = new ArrayList<>(reference ? referenceCommand() : server);
          if (reference) {
            command.addAll(List.of(address, KEY_HEX));
          } else {
            command.addAll(List.of("--address", address, "--authkey-hex", KEY_HEX));
          }
          results.add(runOne(kind, reference ? REFERENCE : name, command, clients, progress));
        }
      }
      return results;
    } finally {
      try (var files = Files.list(dir)) {
        for (Path p : files.toList()) Files.deleteIfExists(p);
      }
      Files.deleteIfExists(dir);
    }
  }

  private static List<String> referenceCommand() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
    // The JVM settings the launcher gives ferry echo, so that the two servers compare as servers.
    command.add("-Xmn32m");
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        LoopEchoServer.class.getName()));
    return command;
  }

  private static Result runOne(String kind, String name, List<String> command, int n,
      PrintWriter progress) throws IOException, InterruptedException {
    progress.println("serve " + kind + ": starting " + name);
    Process server = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try (EventLoops loops = EventLoops.open(2)) {
      server.getOutputStream().close();
      String line = new BufferedReader(new InputStreamReader(server.getInputStream(),
          StandardCharsets.UTF_8)).readLine();
      if (line == null || !line.startsWith("listening on ")) {
        throw new IOException("serve " + kind + ": " + name + " said " + line
            + (server.isAlive() ? "" : " and exited with " + server.waitFor()));
      }
      Address address = Address.parse(line.substring("listening on ".length()));
      Status listening = status(server.pid());
      // Warm up (code, heap) with a tenth of the clients, so that idle is a served state.
      List<AsyncConnection> warm = connect(address, Math.max(10, n / 10), loops);
      exchange(warm);
      closeAll(warm);
      Status idle = status(server.pid());
      long start = System.nanoTime();
      List<AsyncConnection> clients = connect(address, n, loops);
      long connectNanos = System.nanoTime() - start;
      try {
        start = System.nanoTime();
        exchange(clients);
        long exchangeNanos = System.nanoTime() - start;
        Status serving = status(server.pid());
        progress.println("serve " + kind + ": " + name + " served " + n + " clients");
        return new Result(kind, name, n, connectNanos, exchangeNanos, listening, idle,
            serving);
      } finally {
        closeAll(clients);
      }
    } finally {
      server.destroy();
      if (!server.waitFor(30, TimeUnit.SECONDS)) server.destroyForcibly().waitFor();
    }
  }

  private static List<AsyncConnection> connect(Address address, int n, EventLoops loops)
      throws IOException, InterruptedException {
    ConnectionOptions options = ConnectionOptions.builder().authKey(AuthKey.fromHex(KEY_HEX))
        .connectTimeout(STEP).handshakeTimeout(STEP).build();
    List<AsyncConnection> clients = new ArrayList<>(n);
    try {
      for (int i = 0; i < n; i += WAVE) {
        List<CompletableFuture<AsyncConnection>> wave = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + WAVE); j++) {
          wave.add(Client.connectAsync(address, options, loops));
        }
        for (CompletableFuture<AsyncConnection> f : wave) clients.add(await(f));
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      closeAll(clients);
      throw e;
    }
    return clients;
  }

  /** {@link #ROUNDS} round trips on every client at once; each echo checked. */
  private static void exchange(List<AsyncConnection> clients)
      throws IOException, InterruptedException {
    List<CompletableFuture<Void>> all = new ArrayList<>();
    for (int i = 0; i < clients.size(); i++) {
      AsyncConnection c = clients.get(i);
      CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
      for (int round = 0; round < ROUNDS; round++) {
        byte[] message = ("client " + i + " round " + round).getBytes(StandardCharsets.UTF_8);
        chain = chain.thenCompose(v -> c.sendAsync(message))
            .thenCompose(v -> c.receiveAsync())
            .thenAccept(echo -> {
              if (!Arrays.equals(echo, message)) {
                throw new IllegalStateException("wrong echo: "
                    + new String(echo, StandardCharsets.UTF_8));
              }
            });
      }
      all.add(chain);
    }
    await(CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)));
  }

  private static <T> T await(CompletableFuture<T> future)
      throws IOException, InterruptedException {
    try {
      return future.get(STEP.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IOException("serve bench: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("serve bench: no answer within " + STEP.toSeconds() + " s", e);
    }
  }

  private static void closeAll(List<AsyncConnection> clients) throws IOException {
    for (AsyncConnection c : clients) c.close();
  }

  /** {@code Threads} and {@code VmRSS} of process {@code pid}, from /proc (Linux). */
  static Status status(long pid) throws IOException {
    int threads = -1;
    long rss = -1;
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      String[] parts = line.split("\\s+");
      if (line.startsWith("Threads:")) threads = Integer.parseInt(parts[1]);
      if (line.startsWith("VmRSS:")) rss = Long.parseLong(parts[1]);
    }
    if (threads < 0 || rss < 0) throw new IOException("no Threads or VmRSS for process " + pid);
    return new Status(threads, rss);
  }

  static void report(List<Result> results, PrintWriter out) {
    out.println("## Serve: N authenticated clients of one server process at once");
    out.println();
    out.println("| kind | server | clients | connect + handshake, all | " + ROUNDS
        + " round trips on each, all | ratio | threads listening | threads added | RSS per client"
        + " | ratio |");
    out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (Result r : results) {
      Result ref = results.stream()
          .filter(x -> x.kind.equals(r.kind) && x.server.equals(REFERENCE)).findFirst()
          .orElse(r);
      out.printf("| %s | %s | %,d | %,d ms | %,d ms | x%.2f | %d | %d | %,.0f B | x%.2f |%n",
          r.kind, r.server, r.clients, r.connectNanos / 1_000_000, r.exchangeNanos / 1_000_000,
          r.exchangeNanos / (double) ref.exchangeNanos, r.listening.threads, r.threadsAdded(),
          r.rssPerClientBytes(), r.rssPerClientBytes() / Math.max(1.0, ref.rssPerClientBytes()));
    }
  }
}
