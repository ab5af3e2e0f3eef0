package dev.ferry.handle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Connection;
import dev.ferry.LeakCheck;
import dev.ferry.Pipe;
import dev.ferry.Pythons;
import dev.ferry.Wait;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Children started with a connection, and connections passed between three processes. */
@ExtendWith(LeakCheck.class)
class ChildProcessTest {
  private static Path script;

  @BeforeAll
  static void writeScript() throws IOException {
    script = Pythons.script("/python/child.py");
  }

  @AfterAll
  static void removeScript() throws IOException {
    Files.deleteIfExists(script);
  }

  private static ChildProcess python() throws IOException {
    return ChildProcess.startPython(Pythons.require("3.13"), script, List.of());
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  private static String s(byte[] bytes) {
    return new String(bytes, UTF_8);
  }

  @Test
  void javaChildTalksOnTheConnectionItStartedWith() throws Exception {
    try (ChildProcess child = ChildProcess.startJava(JavaChildMain.class, List.of("echo"))) {
      child.connection().sendBytes(b("ping"));
      assertArrayEquals(b("ping"), child.connection().receiveBytes());
      // No descriptor of the parent but the connection: one socket in the child.
      assertEquals(1, sockets(child.process().pid()).size(), sockets(child.process().pid()).toString());
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(10)));
    }
  }

  @Test
  void pythonChildInheritsNothingButItsConnection() throws Exception {
    try (ChildProcess child = python()) {
      child.connection().sendBytes(b("fds"));
      List<String> fds = new ArrayList<>(List.of(s(child.connection().receiveBytes()).split(" ")));
      fds.removeIf(e -> e.startsWith("0=") || e.startsWith("1=") || e.startsWith("2="));
      assertEquals(1, fds.size(), fds.toString());
      assertTrue(fds.get(0).contains("=socket:"), fds.toString());
      assertEquals(1, sockets(child.process().pid()).size());
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(10)));
    }
  }

  @Test
  void pythonChildCodeImportsTheHelper() throws Exception {
    String code = "import ferry_child\nc = ferry_child.connect_to_parent()\n"
        + "c.send_bytes(c.recv_bytes()[::-1])\n";
    try (ChildProcess child = ChildProcess.startPythonCode(Pythons.require("3.13"), code,
        List.of())) {
      child.connection().sendBytes(b("abc"));
      assertArrayEquals(b("cba"), child.connection().receiveBytes());
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(10)));
    }
  }

  @Test
  void childThatExitsBeforeConnectingIsReported() throws Exception {
    IOException e = assertThrows(IOException.class, () -> ChildProcess.startPythonCode(
        Pythons.require("3.13"), "import sys; sys.exit(3)", List.of()));
    assertTrue(e.getMessage().endsWith("exited with status 3 before connecting"), e.getMessage());
  }

  @Test
  void killedChildIsSeenByWaitAndAsEndOfStream() throws Exception {
    try (ChildProcess child = python()) {
      // Let the child block in a receive with nothing left unread: unread data would make the
      // kill a connection reset instead of end of stream.
      child.connection().sendBytes(b("fds"));
      child.connection().receiveBytes();
      child.process().destroyForcibly();
      Set<Object> seen = new HashSet<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
      while (seen.size() < 2 && System.nanoTime() < deadline) {
        seen.addAll(Wait.ready(List.of(child.connection(), child.process()),
            Duration.ofNanos(deadline - System.nanoTime())));
      }
      assertEquals(Set.of(child.connection(), child.process()), seen);
      assertThrows(EOFException.class, () -> child.connection().receiveBytes());
    }
  }

  @Test
  void replyToTravelsAcrossThreeProcesses() throws Exception {
    try (ChildProcess java = ChildProcess.startJava(JavaChildMain.class, List.of("reply-to"));
        ChildProcess python = python();
        Pipe.Duplex pipe = Pipe.duplex()) {
      // Java child gets one end inside a message, Python child the other in the plain form.
      HashMap<String, Object> message = new HashMap<>(Map.of("reply_to", pipe.first()));
      Handles.send(java.connection(), message, Ownership.MOVE);
      python.connection().sendBytes(b("reply"));
      python.connection().sendBytes(b("what is 6 * 7?"));
      Handles.sendConnection(python.connection(), pipe.second(), Ownership.MOVE);

      assertEquals("java child got: python says 42 to: what is 6 * 7?",
          s(java.connection().receiveBytes()));
      assertEquals(0, java.closeAndWait(Duration.ofSeconds(10)));
      assertEquals(0, python.closeAndWait(Duration.ofSeconds(10)));
    }
  }

  @Test
  void pythonSendsAConnectionJavaUses() throws Exception {
    try (ChildProcess python = python()) {
      python.connection().sendBytes(b("give"));
      try (Connection fromPython = Handles.receiveConnection(python.connection(), Access.DUPLEX)) {
        fromPython.sendBytes(b("over the passed pipe"));
      }
      assertEquals("over the passed pipe", s(python.connection().receiveBytes()));
      assertEquals(0, python.closeAndWait(Duration.ofSeconds(10)));
    }
  }

  @Test
  void thousandPassesWithPythonLeaveEveryDescriptorCountWhereItStarted() throws Exception {
    try (ChildProcess python = python(); Pipe.Duplex target = Pipe.duplex()) {
      python.connection().sendBytes(b("bounce 501"));
      // One pass first: a blocking receive opens the connection's selector once for good.
      Handles.sendConnection(python.connection(), target.first(), Ownership.MOVE);
      Connection mine = Handles.receiveConnection(python.connection(), Access.DUPLEX);
      int before = HandlesTest.openDescriptorCount();
      List<String> socketsBefore = sockets(ProcessHandle.current().pid());
      for (int i = 0; i < 500; i++) {
        Handles.sendConnection(python.connection(), mine, Ownership.MOVE);
        mine = Handles.receiveConnection(python.connection(), Access.DUPLEX);
      }
      String[] counts = s(python.connection().receiveBytes()).split(" ");
      assertEquals(counts[0], counts[1], "python's descriptor count before and after");
      assertEquals(socketsBefore.size(), sockets(ProcessHandle.current().pid()).size());
      // A send that finds the socket buffer full opens the connection's write selector once for
      // good (a pipe: two descriptors); nothing else may stay behind.
      int after = HandlesTest.openDescriptorCount();
      assertTrue(after == before || after == before + 2, before + " then " + after);
      mine.sendBytes(b("same socket after 1000 passes"));
      assertArrayEquals(b("same socket after 1000 passes"), target.second().receiveBytes());
      mine.close();
      assertEquals(0, python.closeAndWait(Duration.ofSeconds(10)));
    }
  }

  /** The sockets among a process's descriptors. */
  private static List<String> sockets(long pid) throws IOException {
    List<String> result = new ArrayList<>();
    File[] fds = new File("/proc/" + pid + "/fd").listFiles();
    if (fds == null) throw new IOException("cannot list /proc/" + pid + "/fd");
    for (File fd : fds) {
      try {
        String target = Files.readSymbolicLink(fd.toPath()).toString();
        if (target.startsWith("socket:")) result.add(fd.getName() + "=" + target);
      } catch (IOException e) {
        // Closed while listing.
      }
    }
    return result;
  }

  @Test
  void plainFormWorksBothWaysWithPython27() throws Exception {
    try (ChildProcess python = ChildProcess.startPython(Pythons.require("2.7"), script, List.of());
        Pipe.Duplex pipe = Pipe.duplex()) {
      python.connection().sendBytes(b("give"));
      try (Connection fromPython = Handles.receiveConnection(python.connection(), Access.DUPLEX)) {
        fromPython.sendBytes(b("to python 2.7"));
      }
      assertEquals("to python 2.7", s(python.connection().receiveBytes()));
      python.connection().sendBytes(b("reply"));
      python.connection().sendBytes(b("old?"));
      Handles.sendConnection(python.connection(), pipe.second(), Ownership.MOVE);
      assertEquals("python says 42 to: old?", s(pipe.first().receiveBytes()));
      assertEquals(0, python.closeAndWait(Duration.ofSeconds(10)));
    }
  }
}
