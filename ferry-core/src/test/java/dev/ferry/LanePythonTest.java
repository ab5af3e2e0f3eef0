package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ferry.internal.connection.FramedConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A listener that accepts lanes serves stock CPython clients as a plain one: no lane byte reaches them. */
@ExtendWith(LeakCheck.class)
class LanePythonTest {
  private static final String CLIENT = String.join("\n",
      "import sys",
      "from multiprocessing.connection import Client",
      "key = sys.argv[2].encode() if len(sys.argv) > 2 else None",
      "c = Client(sys.argv[1], authkey=key)",
      "first = c.recv_bytes()",
      "c.send_bytes(first + b'!')",
      "print(first.decode())",
      "c.close()",
      "");

  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({"2.7, key", "3.8, key", "3.13, key", "3.13, ''", "3.11, ''"})
  void stockClientNeverSeesALaneMessage(String version, String key) throws Exception {
    Path python = Pythons.require(version);
    Path script = dir.resolve("client.py");
    Files.writeString(script, CLIENT, StandardCharsets.UTF_8);
    ConnectionOptions.Builder options = ConnectionOptions.builder()
        .sharedMemoryLane(SharedMemoryLane.defaults());
    if (!key.isEmpty()) options.authKey(AuthKey.of(key.getBytes(StandardCharsets.US_ASCII)));
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("s")), options.build())) {
      ProcessBuilder pb = new ProcessBuilder(python.toString(), script.toString(),
          dir.resolve("s").toString());
      if (!key.isEmpty()) pb.command().add(key);
      Process p = pb.redirectErrorStream(true).start();
      BlockingQueue<String> out = Pythons.output(p);
      try (Connection c = listener.accept(Duration.ofSeconds(30))) {
        assertFalse(((FramedConnection) c).usesSharedMemoryLane());
        // The server speaks first: a keyless listener serves it plainly after its window.
        c.sendBytes("hello".getBytes(StandardCharsets.US_ASCII));
        assertEquals("hello!", new String(c.receiveBytes(), StandardCharsets.US_ASCII));
        assertEquals("hello", Pythons.line(out));
        assertEquals(0, Pythons.exit(p));
      } finally {
        p.destroyForcibly();
      }
    }
  }
}
