package dev.ferry;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What one ready connection costs among many idle ones: an async round trip through a loop, and
 * {@link Wait#ready} with one of the objects ready, each with 10 and with up to 10,000 registered.
 * Prints figures; asserts nothing about speed (speed goals belong in benchmarks). It takes over
 * a minute, so it runs only when asked: {@code -Dferry.cost=true -Dtest=LoopCostTest}.
 */
@ExtendWith(LeakCheck.class)
@EnabledIfSystemProperty(named = "ferry.cost", matches = "true")
class LoopCostTest {
  private static final int MANY = Integer.getInteger("ferry.cost.registered", 10_000);

  @Test
  void printsTheCostOfOneReadyAmongManyRegistered() throws Exception {
    int many = FdLimit.fit(MANY, 2);
    assumeTrue(many >= 1000, "soft descriptor limit " + FdLimit.soft() + " too low");
    for (String kind : List.of("unix", "tcp")) {
      double loopFew = loopRoundTripMicros(kind, 10);
      double loopMany = loopRoundTripMicros(kind, many);
      double waitFew = waitMicros(kind, 10);
      double waitMany = waitMicros(kind, many);
      System.out.printf("cost %s: async round trip %.1f us with 10 registered, %.1f us with %d"
              + " (x%.1f); Wait.ready with one ready %.1f us over 10, %.1f us over %d (x%.1f)%n",
          kind, loopFew, loopMany, many, loopMany / loopFew, waitFew, waitMany, many,
          waitMany / waitFew);
    }
  }

  /** Connected pairs of one kind: socket pairs for unix, loopback TCP through one listener. */
  private static List<Connection[]> pairs(String kind, int n) throws Exception {
    List<Connection[]> pairs = new ArrayList<>();
    if (kind.equals("unix")) {
      for (int i = 0; i < n; i++) {
        Pipe.Duplex p = Pipe.duplex();
        pairs.add(new Connection[] {p.first(), p.second()});
      }
      return pairs;
    }
    try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"),
        ConnectionOptions.builder().backlog(1024).build())) {
      for (int i = 0; i < n; i++) {
        Connection c = Client.connect(listener.address());
        pairs.add(new Connection[] {c, listener.accept(Duration.ofSeconds(10))});
      }
    }
    return pairs;
  }

  private static void closeAll(List<Connection[]> pairs) throws Exception {
    for (Connection[] p : pairs) {
      p[0].close();
      p[1].close();
    }
  }

  private static double loopRoundTripMicros(String kind, int registered) throws Exception {
    List<Connection[]> pairs = pairs(kind, registered);
    try (EventLoops loops = EventLoops.open(1)) {
      List<AsyncConnection> idle = new ArrayList<>();
      for (Connection[] p : pairs) {
        AsyncConnection a = AsyncConnection.of(p[1], loops);
        if (!idle.isEmpty()) a.receiveAsync(); // registered for reading, as idle servers are
        idle.add(a);
      }
      AsyncConnection active = idle.get(0);
      Connection peer = pairs.get(0)[0];
      byte[] ping = new byte[16];
      int rounds = 2000;
      long best = Long.MAX_VALUE;
      for (int attempt = 0; attempt < 3; attempt++) {
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
          var reply = active.receiveAsync();
          peer.sendBytes(ping);
          reply.get(10, TimeUnit.SECONDS);
        }
        best = Math.min(best, System.nanoTime() - start);
      }
      for (AsyncConnection a : idle) a.close();
      return best / 1000.0 / rounds;
    } finally {
      closeAll(pairs);
    }
  }

  private static double waitMicros(String kind, int registered) throws Exception {
    List<Connection[]> pairs = pairs(kind, registered);
    try {
      List<Connection> watched = new ArrayList<>();
      for (Connection[] p : pairs) watched.add(p[1]);
      pairs.get(registered / 2)[0].sendBytes(new byte[1]); // one ready, in the middle
      int rounds = registered > 100 ? 50 : 2000;
      long best = Long.MAX_VALUE;
      for (int attempt = 0; attempt < 3; attempt++) {
        long start = System.nanoTime();
        for (int i = 0; i < rounds; i++) {
          if (Wait.ready(watched, Duration.ofSeconds(10)).size() != 1) throw new AssertionError();
        }
        best = Math.min(best, System.nanoTime() - start);
      }
      return best / 1000.0 / rounds;
    } finally {
      closeAll(pairs);
    }
  }
}
