package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Receives racing a close from another thread end with ConnectionClosedException, whatever the
 * moment: junixsocket's select, cut short by the close, throws what it meets (an IOException from
 * its closed wake-up pipe, a NullPointerException from a cancelled key), and a user must not see
 * that. A stress of timed polls against closes; a race lost about twice in 30,000 rounds before.
 */
class CloseRaceTest {
  @Test
  void timedPollsRacingACloseOnlyEverSeeConnectionClosed() throws Exception {
    Map<String, Integer> seen = new TreeMap<>();
    long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
    int rounds = 0;
    while (System.nanoTime() < end) {
      rounds++;
      Pipe.Duplex pair = Pipe.duplex();
      Connection c = pair.first();
      try {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reader = new Thread(() -> {
          try {
            while (true) c.poll(Duration.ofMillis(ThreadLocalRandom.current().nextInt(2)));
          } catch (Throwable t) {
            failure.set(t);
          }
        }, "reader");
        reader.start();
        long pause = ThreadLocalRandom.current().nextLong(200_000);
        long until = System.nanoTime() + pause;
        while (System.nanoTime() < until) Thread.onSpinWait();
        c.close();
        reader.join(5_000);
        if (reader.isAlive()) {
          seen.merge("STUCK", 1, Integer::sum);
          reader.interrupt();
          continue;
        }
        Throwable t = failure.get();
        if (!(t instanceof ConnectionClosedException)) {
          seen.merge(t.getClass().getName() + ": " + t.getMessage(), 1, Integer::sum);
        }
      } finally {
        pair.second().close();
      }
    }
    assertEquals(Map.of(), seen, "rounds " + rounds);
  }
}
