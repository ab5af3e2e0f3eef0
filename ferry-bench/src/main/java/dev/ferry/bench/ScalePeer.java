package dev.ferry.bench;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.ConnectionOptions;
import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The client JVM of {@link ScaleBench}: connects and authenticates COUNT clients to ADDRESS with
 * KEY on Ferry's event loops, prints {@code connected COUNT NANOS} on stdout, then echoes every
 * message on every connection until its stdin ends. Holding the client ends here leaves the
 * measured process one descriptor per connection, so 10,000 fit under a 20,000 limit.
 *
 * <p>{@code java -cp ... dev.ferry.bench.ScalePeer ADDRESS COUNT KEY}
 */
public final class ScalePeer {
  /** Connects in flight at once: the listener's backlog must hold them. */
  static final int WAVE = 200;

  private ScalePeer() {}

  public static void main(String[] args) throws Exception {
    Address address = Address.parse(args[0]);
    int count = Integer.parseInt(args[1]);
    ConnectionOptions options = ScaleBench.options(args[2]);
    List<AsyncConnection> connections = new ArrayList<>(count);
    try (EventLoops loops = EventLoops.open(2)) {
      long start = System.nanoTime();
      for (int i = 0; i < count; i += WAVE) {
        List<CompletableFuture<AsyncConnection>> wave = new ArrayList<>();
        for (int j = i; j < Math.min(count, i + WAVE); j++) {
          wave.add(Client.connectAsync(address, options, loops));
        }
        for (CompletableFuture<AsyncConnection> f : wave) {
          AsyncConnection c = f.get(60, TimeUnit.SECONDS);
          connections.add(c);
          echo(c);
        }
      }
      long elapsed = System.nanoTime() - start;
      System.out.println("connected " + count + " " + elapsed);
      System.out.flush();
      while (System.in.read() >= 0) {
        // The parent closes our stdin when it is done.
      }
    }
  }

  /** Sends every message back, until the connection ends. */
  private static void echo(AsyncConnection c) {
    c.receiveAsync().thenCompose(c::sendAsync).whenComplete((v, e) -> {
      if (e == null) echo(c);
    });
  }
}
