package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Large messages from and into heap arrays go through the socket a window at a time: junixsocket
 * allocated a direct buffer as large as the rest of the message on every read and write call
 * (and copied all of the rest each time: sending a 32 MiB array ran at 0.7-1.7 GB/s against
 * 4.6-7.7 GB/s from a direct buffer), and the JDK keeps a temporary direct buffer as large as a
 * write for the thread, so a 32 MiB send over TCP held 32 MiB of native memory for good.
 */
@ExtendWith(LeakCheck.class)
class LargeArrayMessagesTest {
  private static final int SIZE = 32 << 20;

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "UNIX_PATH", "TCP_V4"})
  void aLargeArrayCrossesWithoutADirectBufferAsLargeAsItself(Transports transport)
      throws Exception {
    byte[] message = new byte[SIZE];
    new Random(3).nextBytes(message);
    try (Transports.Pair p = transport.open(ConnectionOptions.defaults())) {
      p.left().sendBytes(new byte[300_000]); // warm up: buffers the paths keep anyway
      p.right().receiveBytes();
      long before = DirectMemory.usedAfterGc();
      CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
        try {
          p.left().sendBytes(message);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      byte[] received = p.right().receiveBytes();
      sent.get(30, TimeUnit.SECONDS);
      long grownUncollected = DirectMemory.used() - before;
      long grownKept = DirectMemory.usedAfterGc() - before;
      assertArrayEquals(message, received);
      // Without windows: hundreds of MiB allocated (junixsocket) or 32 MiB kept (the JDK).
      assertTrue(grownUncollected < SIZE / 2, "direct memory allocated and not yet collected"
          + " grew by " + grownUncollected + " bytes for a " + SIZE + "-byte message");
      assertTrue(grownKept < 4 << 20, "direct memory kept grew by " + grownKept + " bytes");
    }
  }
}
