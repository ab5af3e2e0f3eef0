package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Large messages from and into heap arrays, blocking or asynchronous, go through the socket a
 * window at a time (SocketTransport.HEAP_WINDOW): junixsocket
 * allocated a direct buffer as large as the rest of the message on every read and write call
 * (and copied all of the rest each time; the speed is ferry-bench's JMH LargeArrayBenchmark),
 * and the JDK keeps a temporary direct buffer as large as a write for the thread, so a 32 MiB
 * send over TCP held 32 MiB of native memory for good.
 */
@ExtendWith(LeakCheck.class)
class LargeArrayMessagesTest {
  private static final int SIZE = 32 << 20;

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "UNIX_PATH", "TCP_V4"})
  void aLargeArrayCrossesWithoutADirectBufferAsLargeAsItself(Transports transport)
      throws Exception {
    check(transport, false);
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "TCP_V4"})
  void andSoDoesOneSentAndReceivedAsynchronously(Transports transport) throws Exception {
    check(transport, true);
  }

  private static void check(Transports transport, boolean async) throws Exception {
    byte[] message = new byte[SIZE];
    new Random(3).nextBytes(message);
    try (Transports.Pair p = transport.open(ConnectionOptions.defaults());
        EventLoops loops = EventLoops.open(1)) {
      AsyncConnection tx = async ? AsyncConnection.of(p.leftConnection(), loops) : null;
      AsyncConnection rx = async ? AsyncConnection.of(p.rightConnection(), loops) : null;
      exchange(p, tx, rx, new byte[300_000]); // warm up: buffers the paths keep anyway
      long before = DirectMemory.usedAfterGc();
      byte[] received = exchange(p, tx, rx, message);
      long grownUncollected = DirectMemory.used() - before;
      long grownKept = DirectMemory.usedAfterGc() - before;
      assertArrayEquals(message, received);
      // Without windows: hundreds of MiB allocated (junixsocket) or 32 MiB kept (the JDK).
      assertTrue(grownUncollected < SIZE / 2, "direct memory allocated and not yet collected"
          + " grew by " + grownUncollected + " bytes for a " + SIZE + "-byte message");
      assertTrue(grownKept < 4 << 20, "direct memory kept grew by " + grownKept + " bytes");
    }
  }

  /** Sends {@code message} one way and returns what arrived, blocking or through the loops. */
  private static byte[] exchange(Transports.Pair p, AsyncConnection tx, AsyncConnection rx,
      byte[] message) throws Exception {
    if (tx != null) {
      CompletableFuture<byte[]> received = rx.receiveAsync();
      tx.sendAsync(message).get(30, TimeUnit.SECONDS);
      return received.get(30, TimeUnit.SECONDS);
    }
    CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
      try {
        return p.right().receiveBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    p.left().sendBytes(message);
    return received.get(30, TimeUnit.SECONDS); // a failed send must not leave this waiting
  }
}
