package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LeakCheck.class)
class MetricsTest {
  private static final AuthKey KEY = AuthKey.fromHex("00112233445566778899");
  private static final AuthKey OTHER = AuthKey.fromHex("99887766554433221100");

  @TempDir Path dir;

  private static ConnectionOptions withKey(AuthKey key) {
    return ConnectionOptions.builder().authKey(key).handshakeTimeout(Duration.ofSeconds(10)).build();
  }

  @Test
  void connectionCountsMessagesAndPayloadBytesEachWay() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      pipe.first().sendBytes(new byte[10]);
      pipe.first().sendBytes(new byte[100_000]);
      pipe.second().receiveBytes();
      pipe.second().receiveBytes();
      pipe.second().sendBytes(new byte[3]);
      assertEquals(new ConnectionMetrics(2, 100_010, 0, 0, 0), pipe.first().metrics());
      assertEquals(new ConnectionMetrics(1, 3, 2, 100_010, 0), pipe.second().metrics());
    }
  }

  @Test
  void asynchronousSendsAndReceivesAreCountedLikeBlockingOnes() throws Exception {
    try (EventLoops loops = EventLoops.open(); Pipe.Duplex pipe = Pipe.duplex();
        AsyncConnection a = AsyncConnection.of(pipe.first(), loops)) {
      for (int i = 0; i < 5; i++) a.sendAsync(new byte[7]);
      a.sendAsync(new byte[200_000]).get(10, TimeUnit.SECONDS);
      for (int i = 0; i < 6; i++) pipe.second().receiveBytes();
      pipe.second().sendBytes(new byte[4]);
      a.receiveAsync().get(10, TimeUnit.SECONDS);
      assertEquals(new ConnectionMetrics(6, 200_035, 1, 4, 0), pipe.first().metrics());
    }
  }

  @Test
  void listenerCountsAcceptedOpenAndWrongKeys() throws Exception {
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("m.sock")), withKey(KEY))) {
      Connection client = Client.connect(listener.address(), withKey(KEY));
      Connection accepted = listener.accept(Duration.ofSeconds(10));
      assertThrows(AuthenticationException.class,
          () -> Client.connect(listener.address(), withKey(OTHER)));
      assertThrows(AuthenticationException.class, () -> listener.accept(Duration.ofSeconds(10)));
      ListenerMetrics open = listener.metrics();
      assertEquals(1, open.accepted());
      assertEquals(1, open.open());
      assertEquals(1, open.handshakeFailures().get(HandshakeFailure.WRONG_KEY));
      assertEquals(0, open.handshakeFailures().get(HandshakeFailure.TIMEOUT));
      assertEquals(1, open.handshakeFailuresTotal());
      accepted.close();
      client.close();
      assertEquals(0, listener.metrics().open());
      assertEquals(1, listener.metrics().accepted());
    }
  }
}
