package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A Unix socket that sends a message of 256 KiB or more gets a larger kernel send buffer (fewer
 * sleeps of the writer per message); smaller messages and TCP leave the kernel's choice alone.
 */
@ExtendWith(LeakCheck.class)
class SendBufferTest {
  private static int sendBuffer(Connection c) throws Exception {
    return ((FramedConnection) c).channel().getOption(StandardSocketOptions.SO_SNDBUF);
  }

  private static void check(Transports transport, Sending sending) throws Exception {
    try (Transports.Pair p = transport.open(ConnectionOptions.defaults());
        EventLoops loops = EventLoops.open(1)) {
      Connection sender = p.leftConnection();
      int before = sendBuffer(sender);
      AsyncConnection async = sending == Sending.ASYNC ? AsyncConnection.of(sender, loops) : null;
      for (int size : new int[] {100, 65_536, 200_000}) {
        send(sender, async, new byte[size]);
        assertEquals(size, p.right().receiveBytes().length);
      }
      assertEquals(before, sendBuffer(sender), "messages under 256 KiB leave it alone");
      byte[] big = new byte[3 << 20];
      big[big.length - 1] = 9;
      CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
        try {
          return p.right().receiveBytes();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      send(sender, async, big);
      assertArrayEquals(big, received.get(20, TimeUnit.SECONDS));
      int after = sendBuffer(sender);
      if (transport == Transports.TCP_V4) {
        assertEquals(before, after, "TCP keeps autotuning");
      } else {
        // Linux doubles what is asked, capped by net.core.wmem_max (here 4 MiB).
        assertTrue(after > before, "send buffer " + before + " -> " + after);
      }
      if (async != null) async.close();
    }
  }

  private enum Sending { BLOCKING, ASYNC }

  private static void send(Connection sender, AsyncConnection async, byte[] bytes)
      throws Exception {
    if (async == null) {
      sender.sendBytes(bytes);
    } else {
      async.sendAsync(ByteBuffer.wrap(bytes)).get(20, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "UNIX_PATH", "TCP_V4"})
  void blockingSendsRaiseItForLargeMessagesOnly(Transports transport) throws Exception {
    check(transport, Sending.BLOCKING);
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "UNIX_PATH", "TCP_V4"})
  void asyncSendsRaiseItForLargeMessagesOnly(Transports transport) throws Exception {
    check(transport, Sending.ASYNC);
  }
}
