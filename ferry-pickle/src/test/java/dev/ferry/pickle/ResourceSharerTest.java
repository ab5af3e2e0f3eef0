package dev.ferry.pickle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Connection;
import dev.ferry.Pipe;
import dev.ferry.handle.ChildProcess;
import dev.ferry.handle.Ownership;
import java.io.EOFException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Connections in pickled messages between Java and CPython 3.13, both ways. (ferry-core's
 * LeakCheck cannot be used here: its package belongs to the named module dev.ferry.)
 */
class ResourceSharerTest {

  @Test
  void connectionsTravelPickledBothWays() throws Exception {
    Path script = Files.createTempFile("ferry-pickled-child-", ".py");
    try (InputStream in = ResourceSharerTest.class.getResourceAsStream("/python/pickled_child.py")) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    PickleCodec codec = ResourceSharer.allowConnections(PickleCodec.builder()).build();
    try (ChildProcess child = ChildProcess.startPython(CPython.interpreter("3.13.0"), script,
            List.of());
        ResourceSharer sharer = ResourceSharer.start(child.authKey());
        Pipe.Duplex pipe = Pipe.duplex()) {
      // Java to Python: Python's recv() finds a real multiprocessing Connection.
      child.connection().send(Map.of("reply_to", sharer.share(pipe.first(), Ownership.MOVE),
          "question", "how?".getBytes(UTF_8)), codec);
      assertEquals("python answers on a pickled connection: how?",
          new String(pipe.second().receiveBytes(), UTF_8));
      // Moved: the sharer thread closes this process's copy right after handing it over.
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      while (!pipe.first().isClosed() && System.nanoTime() < deadline) Thread.onSpinWait();
      assertTrue(pipe.first().isClosed());

      // Python to Java: multiprocessing's own pickle of a Connection, fetched from its sharer.
      Map<?, ?> message = (Map<?, ?>) child.connection().receive(codec);
      try (Connection fromPython = ResourceSharer.rebuild(message.get("conn"), child.authKey())) {
        fromPython.sendBytes("over python's pipe".getBytes(UTF_8));
      }
      assertEquals("over python's pipe", new String(child.connection().receiveBytes(), UTF_8));
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(10)));
    } finally {
      assertTrue(Thread.getAllStackTraces().keySet().stream()
          .noneMatch(t -> t.isAlive() && t.getName().startsWith("ferry-sharer")));
      Files.deleteIfExists(script);
    }
  }
}
