package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Thousands of authenticated connections served by one process on two loop threads per kind,
 * sized to the soft descriptor limit, and the heap an idle connection costs. Prints its figures.
 */
@ExtendWith(LeakCheck.class)
class AsyncScaleTest {
  private static final int WANTED = Integer.getInteger("ferry.scale.connections", 2000);
  private static final int WAVE = 200;

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void servesThousandsOfAuthenticatedConnectionsOnTheLoops(String kind) throws Exception {
    int n = FdLimit.fit(WANTED, 2); // a client and a server socket each
    assumeTrue(n >= 100, "soft descriptor limit " + FdLimit.soft() + " leaves room for only " + n
        + " connections; raise it (ulimit -n) to run this test");
    ConnectionOptions options = ConnectionOptions.builder()
        .authKey(AuthKey.of("scale".getBytes(UTF_8)))
        .backlog(WAVE)
        .handshakeTimeout(Duration.ofSeconds(60))
        .connectTimeout(Duration.ofSeconds(60))
        .build();
    Path dir = Files.createTempDirectory("ferry-scale");
    Address address = kind.equals("unix") ? new Address.Unix(dir.resolve("s")) : new Address.Tcp("127.0.0.1", 0);
    List<AsyncConnection> clients = new ArrayList<>();
    ConcurrentLinkedQueue<AsyncConnection> servers = new ConcurrentLinkedQueue<>();
    try (EventLoops loops = EventLoops.open(2); Listener listener = Listener.bind(address, options)) {
      long before = heapAfterGc();
      // Server: accept forever, wrapping each connection and echoing its messages.
      acceptAndEcho(listener, loops, servers);
      long started = System.nanoTime();
      for (int i = 0; i < n; i += WAVE) {
        List<CompletableFuture<AsyncConnection>> wave = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + WAVE); j++) {
          wave.add(Client.connectAsync(listener.address(), options, loops));
        }
        for (CompletableFuture<AsyncConnection> f : wave) clients.add(f.get(60, TimeUnit.SECONDS));
      }
      long connected = System.nanoTime();
      List<CompletableFuture<byte[]>> replies = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        AsyncConnection c = clients.get(i);
        replies.add(c.sendAsync(("hello " + i).getBytes(UTF_8)).thenCompose(v -> c.receiveAsync()));
      }
      for (int i = 0; i < n; i++) {
        assertEquals("hello " + i, new String(replies.get(i).get(60, TimeUnit.SECONDS), UTF_8));
      }
      long exchanged = System.nanoTime();
      while (servers.size() < n) Thread.onSpinWait(); // each echo re-armed its receive already
      long after = heapAfterGc();
      double perPair = (after - before) / (double) n;
      System.out.printf("scale %s: %d authenticated connections in %d ms, one round trip each in"
              + " %d ms; heap per idle connection: %.0f bytes for both ends, %.0f per end"
              + " (server end with a receive pending)%n",
          kind, n, (connected - started) / 1_000_000, (exchanged - connected) / 1_000_000,
          perPair, perPair / 2);
      for (AsyncConnection c : clients) c.close();
    } finally {
      for (AsyncConnection c : servers) c.close();
      Files.deleteIfExists(dir.resolve("s"));
      Files.deleteIfExists(dir);
    }
  }

  private static void acceptAndEcho(Listener listener, EventLoops loops,
      ConcurrentLinkedQueue<AsyncConnection> servers) {
    listener.acceptAsync().whenComplete((c, e) -> {
      if (e != null) {
        if (!(e instanceof ConnectionClosedException)) System.out.println("accept failed: " + e);
        return;
      }
      AsyncConnection server = AsyncConnection.of(c, loops);
      servers.add(server);
      echo(server);
      acceptAndEcho(listener, loops, servers);
    });
  }

  private static void echo(AsyncConnection c) {
    c.receiveAsync().thenCompose(c::sendAsync).thenRun(() -> echo(c));
  }

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
}
