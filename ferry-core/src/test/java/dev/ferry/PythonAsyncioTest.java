package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * examples/python/asyncio_client.py, on CPython 3.13 with the standard library only, against a
 * Ferry server on the event loops: many concurrent authenticated connections from one asyncio
 * program, with messages larger than the receive buffer.
 */
@ExtendWith(LeakCheck.class)
class PythonAsyncioTest {
  private static final Path EXAMPLE = Path.of("..", "examples", "python", "asyncio_client.py");

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void asyncioClientTalksToAnAsyncFerryServer(String kind) throws Exception {
    Path python = Pythons.require("3.13");
    assertTrue(Files.exists(EXAMPLE), "missing " + EXAMPLE.toAbsolutePath());
    AuthKey key = AuthKey.random();
    ConnectionOptions options = ConnectionOptions.builder().authKey(key).build();
    Address address = kind.equals("unix") ? new Address.Unix(dir.resolve("s")) : Address.parse("tcp:127.0.0.1:0");
    ConcurrentLinkedQueue<AsyncConnection> served = new ConcurrentLinkedQueue<>();
    try (EventLoops loops = EventLoops.open(); Listener listener = Listener.bind(address, options)) {
      serve(listener, loops, served);
      ProcessBuilder pb = new ProcessBuilder(python.toString(), EXAMPLE.toString(),
          listener.address().toString(), "20", "5").redirectErrorStream(true);
      pb.environment().put("FERRY_AUTHKEY", key.toHex());
      Process p = pb.start();
      String output;
      try {
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python did not finish");
        output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } finally {
        p.destroyForcibly();
        p.getInputStream().close();
        p.getOutputStream().close();
        p.getErrorStream().close();
      }
      assertEquals(0, p.exitValue(), output);
      assertEquals("ok 20 5\n", output);
    } finally {
      for (AsyncConnection c : served) c.close();
    }
  }

  private static void serve(Listener listener, EventLoops loops,
      ConcurrentLinkedQueue<AsyncConnection> served) {
    listener.acceptAsync().whenComplete((c, e) -> {
      if (e != null) return; // closed
      AsyncConnection a = AsyncConnection.of(c, loops);
      served.add(a);
      echo(a);
      serve(listener, loops, served);
    });
  }

  private static void echo(AsyncConnection c) {
    c.receiveAsync().thenCompose(c::sendAsync).thenRun(() -> echo(c));
  }

}
