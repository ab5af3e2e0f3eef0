package dev.ferry.internal.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * A writer waiting for room while another thread hands a copy of the socket on
 * ({@code keepPeerCopiesOnClose}, as passing a connection does), which switches a socket that no
 * selector holds to blocking mode. A writer that registered its selector after that switch failed
 * with an IllegalBlockingModeException (241 times in 2,578 rounds once the registration had moved
 * out of the mode lock); both calls must carry on, whatever the moment.
 */
class SocketTransportModeRaceTest {
  /** A transport on {@code ch} whose send buffer is full. */
  private static SocketTransport full(AFUNIXSocketChannel ch) throws Exception {
    SocketTransport t = new SocketTransport(ch);
    ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
    while (true) {
      chunk.clear();
      if (t.writeNow(chunk) == 0) return t;
    }
  }

  @Test
  void aWriterWaitingForRoomAndACopyHandedOnMeanwhileBothCarryOn() throws Exception {
    Map<String, Integer> seen = new TreeMap<>();
    long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
    int rounds = 0;
    while (System.nanoTime() < end) {
      rounds++;
      AFUNIXSocketChannel[] pair = SocketPairs.open();
      try (AFUNIXSocketChannel peer = pair[1]) {
        SocketTransport t = full(pair[0]);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Throwable> passFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
          try {
            t.awaitWritable(Deadlines.after(Duration.ofMillis(5)));
          } catch (Throwable e) {
            failure.set(e);
          }
        }, "writer");
        writer.start();
        long until = System.nanoTime() + ThreadLocalRandom.current().nextLong(100_000);
        while (System.nanoTime() < until) Thread.onSpinWait();
        try {
          t.keepPeerCopiesOnClose();
        } catch (Throwable e) {
          passFailure.set(e);
        }
        writer.join(5_000);
        if (writer.isAlive()) seen.merge("STUCK", 1, Integer::sum);
        t.close();
        if (failure.get() != null) seen.merge("writer: " + failure.get(), 1, Integer::sum);
        if (passFailure.get() != null) seen.merge("pass: " + passFailure.get(), 1, Integer::sum);
      }
    }
    assertEquals(Map.of(), seen, "rounds " + rounds);
  }
}
