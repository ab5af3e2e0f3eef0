package dev.ferry.micrometer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.AuthenticationException;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Pipe;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FerryMeterBinderTest {
  private static final AuthKey KEY = AuthKey.fromHex("00112233445566778899");
  private static final AuthKey OTHER = AuthKey.fromHex("99887766554433221100");

  @TempDir Path dir;

  private static ConnectionOptions withKey(AuthKey key) {
    return ConnectionOptions.builder().authKey(key).handshakeTimeout(Duration.ofSeconds(10)).build();
  }

  @Test
  void connectionMetersFollowMessagesEachWay() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      FerryMeterBinder.forConnection(pipe.first(), Tags.of("peer", "worker")).bindTo(registry);
      pipe.first().sendBytes(new byte[40]);
      pipe.second().receiveBytes();
      pipe.second().sendBytes(new byte[5]);
      pipe.second().sendBytes(new byte[6]);
      pipe.first().receiveBytes();
      assertEquals(1, registry.get("ferry.connection.messages").tags("direction", "sent", "peer", "worker")
          .functionCounter().count());
      assertEquals(40, registry.get("ferry.connection.bytes").tag("direction", "sent")
          .functionCounter().count());
      assertEquals(1, registry.get("ferry.connection.messages").tag("direction", "received")
          .functionCounter().count());
      assertEquals(5, registry.get("ferry.connection.bytes").tag("direction", "received")
          .functionCounter().count());
      assertEquals(0, registry.get("ferry.connection.queued.bytes").gauge().value());
    }
  }

  @Test
  void listenerMetersCountAcceptedOpenAndFailuresByReason() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("m.sock")), withKey(KEY))) {
      FerryMeterBinder.forListener(listener, Tags.empty()).bindTo(registry);
      try (Connection client = Client.connect(listener.address(), withKey(KEY));
          Connection accepted = listener.accept(Duration.ofSeconds(10))) {
        assertEquals(1, registry.get("ferry.listener.open").gauge().value());
      }
      assertThrows(AuthenticationException.class,
          () -> Client.connect(listener.address(), withKey(OTHER)));
      assertThrows(AuthenticationException.class, () -> listener.accept(Duration.ofSeconds(10)));
      assertEquals(1, registry.get("ferry.listener.accepted").functionCounter().count());
      assertEquals(0, registry.get("ferry.listener.open").gauge().value());
      assertEquals(1, registry.get("ferry.listener.handshake.failures").tag("reason", "wrong_key")
          .functionCounter().count());
      assertEquals(0, registry.get("ferry.listener.handshake.failures").tag("reason", "timeout")
          .functionCounter().count());
      assertEquals(listener.address().toString(),
          registry.get("ferry.listener.accepted").functionCounter().getId().getTag("address"));
    }
  }
}
