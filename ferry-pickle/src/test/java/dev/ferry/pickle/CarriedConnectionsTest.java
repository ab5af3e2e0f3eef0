package dev.ferry.pickle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.AuthKey;
import dev.ferry.Connection;
import dev.ferry.Pipe;
import dev.ferry.codec.CodecException;
import dev.ferry.handle.ChildProcess;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A codec built with {@link PickleCodec.Builder#connections}: connections at any depth travel
 * between Java and CPython 3.13 with no call per connection, each reference works once, unclaimed
 * ones are dropped, and a failed pickle gives back what it took. A Python one-way pipe's ends
 * (os.pipe() descriptors) arrive working from CPython 3.8 on.
 */
class CarriedConnectionsTest {

  @AfterEach
  void noSharerOrPumpThreadLeft() {
    assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.isAlive()
        && (t.getName().startsWith("ferry-sharer") || t.getName().startsWith("ferry-pipe"))));
  }

  @Test
  void connectionsAtAnyDepthTravelBothWaysWithoutGlue() throws Exception {
    Path script = copyScript("carried_child.py");
    try (ChildProcess child = ChildProcess.startPython(CPython.interpreter("3.13.0"), script,
            List.of());
        ResourceSharer sharer = ResourceSharer.start(child.authKey());
        Pipe.Duplex replies = Pipe.duplex();
        Pipe.OneWay oneWay = Pipe.oneWay();
        Pipe.Duplex held = Pipe.duplex()) {
      PickleCodec codec = PickleCodec.builder().connections(sharer)
          .allow("types.SimpleNamespace").build();
      Map<String, Object> message = new HashMap<>();
      message.put("reply_to", replies.first());
      message.put("n", List.of(1, Map.of("deep", replies.first())));
      message.put("tuple", PyTuple.of(oneWay.writer()));
      message.put("object", PyObject.of(PyGlobal.parse("types.SimpleNamespace"),
          PyObject.Construction.NEW, PyTuple.empty(), Map.of("held", held.first())));
      child.connection().send(message, codec);
      assertEquals("dict and list: True True", text(replies.second().receiveBytes()));
      assertEquals("tuple: False True", text(oneWay.reader().receiveBytes()));
      assertEquals("object state", text(held.second().receiveBytes()));

      Map<?, ?> fromPython = (Map<?, ?>) child.connection().receive(codec);
      Connection duplex = (Connection) fromPython.get("reply_to");
      assertSame(duplex, ((Map<?, ?>) ((List<?>) fromPython.get("n")).get(1)).get("deep"));
      assertSame(duplex, ((Map<?, ?>) ((PyObject) fromPython.get("object")).state()).get("held"));
      Connection reader = (Connection) ((PyTuple) fromPython.get("tuple")).get(0);
      Connection listed = (Connection) ((Set<?>) fromPython.get("set")).iterator().next();
      try (duplex; reader; listed) {
        assertTrue(reader.isReadable());
        assertFalse(reader.isWritable());
        assertEquals("to java's read-only end", text(reader.receiveBytes()));
        duplex.sendBytes("on python's duplex pipe".getBytes(UTF_8));
        listed.sendBytes("on the pipe in a set".getBytes(UTF_8));
      }
      assertEquals("on python's duplex pipe | on the pipe in a set",
          text(child.connection().receiveBytes()));
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(10)));
    } finally {
      Files.deleteIfExists(script);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"})
  void bothEndsOfOneWayPipesTravelWorkingWithTheirAccessMode(String version)
      throws Exception {
    Path script = copyScript("pipe_ends_child.py");
    try (ChildProcess child = ChildProcess.startPython(CPython.interpreter(version), script,
            List.of());
        ResourceSharer sharer = ResourceSharer.start(child.authKey())) {
      PickleCodec codec = PickleCodec.builder().connections(sharer).build();
      List<String> before = openDescriptors();
      Map<?, ?> fromPython = (Map<?, ?>) child.connection().receive(codec);
      Connection reader = (Connection) fromPython.get("reader");
      Connection writer = (Connection) ((List<?>) fromPython.get("writers")).get(0);
      try (reader; writer) {
        assertTrue(reader.isReadable() && !reader.isWritable());
        assertTrue(writer.isWritable() && !writer.isReadable());
        assertEquals("python to java", text(reader.receiveBytes()));
        writer.sendBytes("java to python".getBytes(UTF_8));
        assertEquals("python got: java to python", text(child.connection().receiveBytes()));
        writer.close(); // the pipe's last writer: Python's reader sees end of file
        assertEquals("end of file", text(child.connection().receiveBytes()));
        assertThrows(EOFException.class, reader::receiveBytes);
      }
      assertDescriptorsBackTo(before); // both pipe ends and their pumps' sockets
      try (Pipe.OneWay back = Pipe.oneWay()) {
        child.connection().send(Map.of("reader", back.reader()), codec);
        back.writer().sendBytes("through java's one-way pipe".getBytes(UTF_8));
        assertEquals("True False blocking=True through java's one-way pipe",
            text(child.connection().receiveBytes()));
      }
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(10)));
    } finally {
      Files.deleteIfExists(script);
    }
  }

  @Test
  void eachReferenceWorksOnceAndTheSendersCopyStaysItsOwn() throws Exception {
    try (ResourceSharer sharer = ResourceSharer.start(AuthKey.random());
        Pipe.Duplex pipe = Pipe.duplex()) {
      PickleCodec codec = PickleCodec.builder().connections(sharer).build();
      byte[] pickle = codec.dumps(List.of(pipe.first()));
      pipe.first().close(); // the sharer holds a duplicate of its own
      Connection fetched = (Connection) ((List<?>) codec.loads(pickle)).get(0);
      try (fetched) {
        fetched.sendBytes("via the fetched copy".getBytes(UTF_8));
        assertEquals("via the fetched copy", text(pipe.second().receiveBytes()));
      }
      CodecException second = assertThrows(CodecException.class, () -> codec.loads(pickle));
      assertTrue(second.getMessage().contains("fetched already, or dropped"),
          second.getMessage());
    }
  }

  @Test
  void unclaimedReferencesAreDroppedAfterTheClaimTimeout() throws Exception {
    try (ResourceSharer sharer = ResourceSharer.start(AuthKey.random(), Duration.ofMillis(200));
        Pipe.Duplex pipe = Pipe.duplex()) {
      PickleCodec codec = PickleCodec.builder().connections(sharer).build();
      byte[] pickle = codec.dumps(pipe.first());
      pipe.first().close();
      // Dropped: the sharer's duplicate was the last copy of that end, so the peer sees the end.
      assertThrows(EOFException.class, () -> pipe.second().receiveBytes());
      CodecException late = assertThrows(CodecException.class, () -> codec.loads(pickle));
      assertTrue(late.getMessage().contains("fetched already, or dropped"), late.getMessage());
    }
  }

  @Test
  void aPickleThatFailsWithdrawsTheConnectionsItShared() throws Exception {
    try (ResourceSharer sharer = ResourceSharer.start(AuthKey.random());
        Pipe.Duplex pipe = Pipe.duplex()) {
      PickleCodec codec = PickleCodec.builder().connections(sharer).build();
      List<Object> value = new ArrayList<>(List.of(pipe.first(), new Object()));
      CodecException e = assertThrows(CodecException.class, () -> codec.dumps(value));
      assertEquals("cannot pickle java.lang.Object", e.getMessage());
      pipe.first().close();
      assertThrows(EOFException.class, () -> pipe.second().receiveBytes());
    }
  }

  @Test
  void aCodecWithoutConnectionsRefusesThemBothWays() throws Exception {
    try (ResourceSharer sharer = ResourceSharer.start(AuthKey.random());
        Pipe.Duplex pipe = Pipe.duplex()) {
      byte[] pickle = PickleCodec.builder().connections(sharer).build().dumps(pipe.first());
      ConnectionsNotCarriedException in = assertThrows(ConnectionsNotCarriedException.class,
          () -> PickleCodec.standard().loads(pickle));
      assertEquals("pickled connection, but the codec carries none: "
          + "multiprocessing.connection.rebuild_connection", in.getMessage());
      ConnectionsNotCarriedException out = assertThrows(ConnectionsNotCarriedException.class,
          () -> PickleCodec.standard().dumps(pipe.first()));
      assertEquals("cannot pickle " + pipe.first() + ": the codec carries no connections",
          out.getMessage());
    }
  }

  @Test
  void withProtocolKeepsEverySettingButTheProtocol() throws Exception {
    try (ResourceSharer sharer = ResourceSharer.start(AuthKey.random())) {
      PickleCodec codec = PickleCodec.builder().connections(sharer).allow("shapes.Point").build();
      PickleCodec two = codec.withProtocol(2);
      assertEquals(2, two.protocol());
      assertTrue(two.carriesConnections());
      byte[] point = PickleCodec.builder().allow("shapes.Point").build()
          .dumps(PyObject.call("shapes.Point", 1, 2));
      assertInstanceOf(PyObject.class, two.loads(point));
      assertSame(codec, codec.withProtocol(codec.protocol()));
      assertThrows(IllegalArgumentException.class, () -> codec.withProtocol(6));
    }
  }

  /**
   * The sockets, pipes and selectors this process has open (number and target), sorted: a
   * difference names the leak. Regular files are left out: a JVM agent or a jar opened by a class
   * loader would make the figure depend on what ran before, not on what this test did.
   */
  private static List<String> openDescriptors() throws IOException {
    List<String> targets = new ArrayList<>();
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:") || target.startsWith("pipe:")
              || target.startsWith("anon_inode:")) {
            targets.add(fd.getFileName() + " -> " + target);
          }
        } catch (IOException closedMeanwhile) {
          // the listing's own descriptor, or one closed meanwhile
        }
      }
    }
    targets.sort(null);
    return targets;
  }

  /** Waits up to 5 s for the descriptors to be {@code before} again: pumps close on threads. */
  private static void assertDescriptorsBackTo(List<String> before) throws Exception {
    List<String> now = openDescriptors();
    for (int i = 0; i < 50 && !now.equals(before); i++) {
      Thread.sleep(100);
      now = openDescriptors();
    }
    assertEquals(before, now);
  }

  private static String text(byte[] bytes) {
    return new String(bytes, UTF_8);
  }

  private static Path copyScript(String name) throws IOException {
    Path script = Files.createTempFile("ferry-" + name.replace(".py", "-"), ".py");
    try (InputStream in = Objects.requireNonNull(
        CarriedConnectionsTest.class.getResourceAsStream("/python/" + name))) {
      Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
    }
    return script;
  }
}
