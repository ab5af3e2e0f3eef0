package dev.ferry.handle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.ConnectionOptions;
import dev.ferry.LeakCheck;
import dev.ferry.Pythons;
import dev.ferry.internal.transport.InheritedDescriptors;
import dev.ferry.internal.transport.SocketPairs;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.newsclub.net.unix.AFPipe;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Connections on inherited descriptors: a real CPython parent that starts a Java child with
 * {@code subprocess.Popen(..., pass_fds=[fd])} (Python 3.2+; 2.7 with {@code close_fds=False})
 * hands it a {@code Pipe()} end, and both authenticate with the other's own challenge functions.
 */
@ExtendWith(LeakCheck.class)
class InheritedTest {
  private static final String KEY = "73656372657420"; // "secret "

  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"})
  void javaChildTalksOnThePipeEndItsPythonParentPassed(String version) throws Exception {
    List<String> out = runParent(version, KEY, KEY);
    assertEquals("parent: authenticated", out.get(0), out.toString());
    assertEquals("parent: echoed {'reply': [1, 2.5, 'three']}", out.get(1), out.toString());
    assertTrue(out.get(2).matches("parent: child says descriptor (\\d+) of \\1"), out.toString());
    assertEquals("child exit 0", out.get(3), out.toString());
    assertEquals(4, out.size(), out.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"})
  void javaChildCopiesBetweenTheOneWayPipeEndsItsPythonParentPassed(String version)
      throws Exception {
    List<String> out = runParent(version, "oneway", "-");
    assertEquals(List.of("parent: copied 4 messages, then end of file", "child exit 0"), out);
  }

  @Test
  void pipeReadEndReceivesFramesAndClosingStopsItsPump() throws Exception {
    try (AFPipe pipe = AFPipe.open()) {
      // The connection owns a duplicate; the pipe keeps its own descriptors.
      FileDescriptor copy = FileDescriptorCast.duplicating(pipe.source().getFileDescriptor())
          .getFileDescriptor();
      Connection reads = Inherited.connection(InheritedDescriptors.number(copy),
          ConnectionOptions.defaults());
      try (reads) {
        assertTrue(reads.isReadable() && !reads.isWritable());
        pipe.sink().write(ByteBuffer.wrap(new byte[] {0, 0, 0, 2, 'h', 'i'}));
        assertArrayEquals(new byte[] {'h', 'i'}, reads.receiveBytes());
        assertFalse(reads.poll(Duration.ofMillis(20)));
      }
      // The pump was blocked reading the pipe: closing woke it, and LeakCheck sees it gone.
      assertTrue(reads.isClosed());
    }
  }

  @Test
  void adoptingAUnixSocketLeavesTheParentsCopyInBlockingMode() throws Exception {
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    try (AFUNIXSocketChannel parents = pair[0]; AFUNIXSocketChannel peer = pair[1]) {
      // The parent keeps its copy (pass_fds), which shares the open file description, and with
      // it O_NONBLOCK: CPython's Connection on a non-blocking socket fails with EAGAIN.
      FileDescriptor copy = FileDescriptorCast.duplicating(parents.getFileDescriptor())
          .getFileDescriptor();
      try (Connection adopted = Inherited.connection(InheritedDescriptors.number(copy),
          Access.DUPLEX, ConnectionOptions.defaults())) {
        assertFalse(nonBlocking(parents.getFileDescriptor()));
        // While this side waits in poll, the copies are non-blocking; afterwards no longer.
        adopted.sendBytes(new byte[] {'h', 'i'});
        peer.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 2, 'h', 'o'}));
        assertArrayEquals(new byte[] {'h', 'o'}, adopted.receiveBytes());
      }
      assertFalse(nonBlocking(parents.getFileDescriptor()));
    }
  }

  /**
   * A close from another thread while a receive waits in poll: the close puts the parent's copy
   * back in blocking mode, which takes a select on the receiver's own selector. Done while the
   * receiver still selected, that hung both threads about one time in six (junixsocket's selector
   * is not safe for two concurrent selects): a SIGTERM'd {@code ferry echo --fd} never exited.
   */
  @Test
  void closeFromAnotherThreadWhileAReceiveWaitsEndsBothAndLeavesTheCopyBlocking()
      throws Exception {
    for (int round = 0; round < 40; round++) {
      AFUNIXSocketChannel[] pair = SocketPairs.open();
      try (AFUNIXSocketChannel parents = pair[0]; AFUNIXSocketChannel peer = pair[1]) {
        FileDescriptor copy = FileDescriptorCast.duplicating(parents.getFileDescriptor())
            .getFileDescriptor();
        Connection adopted = Inherited.connection(InheritedDescriptors.number(copy),
            Access.DUPLEX, ConnectionOptions.defaults());
        AtomicReference<Throwable> received = new AtomicReference<>();
        Thread receiver = new Thread(() -> {
          try {
            adopted.receiveBytes();
          } catch (Throwable t) {
            received.set(t);
          }
        }, "receiver");
        Thread closer = new Thread(() -> {
          try {
            adopted.close();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }, "closer");
        receiver.start();
        Thread.sleep(round % 4); // 0 to 3 ms: the close meets the receive before, in, after poll
        closer.start();
        for (Thread t : List.of(closer, receiver)) {
          t.join(5_000);
          int r = round;
          assertFalse(t.isAlive(), () -> "round " + r + ": " + t.getName() + " stuck at "
              + Arrays.toString(t.getStackTrace()));
        }
        Throwable t = received.get();
        assertTrue(t instanceof ConnectionClosedException, "round " + round + ": " + t);
        assertFalse(nonBlocking(parents.getFileDescriptor()), "round " + round);
      }
    }
  }

  /** Whether the description behind {@code fd} has O_NONBLOCK (octal 04000) in its flags. */
  private static boolean nonBlocking(FileDescriptor fd) throws IOException {
    for (String line : Files.readAllLines(
        Path.of("/proc/self/fdinfo/" + InheritedDescriptors.number(fd)))) {
      if (line.startsWith("flags:")) {
        return (Integer.parseInt(line.substring(6).trim(), 8) & 04000) != 0;
      }
    }
    throw new IOException("no flags in /proc/self/fdinfo");
  }

  @Test
  void refusesToSendOnAPipeReadEndAndLeavesItOpen() throws Exception {
    try (AFPipe pipe = AFPipe.open()) {
      int fd = InheritedDescriptors.number(pipe.source().getFileDescriptor());
      IOException e = assertThrows(IOException.class,
          () -> Inherited.connection(fd, Access.DUPLEX, ConnectionOptions.defaults()));
      assertEquals("descriptor " + fd + " is a pipe's read end: it cannot send", e.getMessage());
      pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
      assertEquals(1, pipe.source().read(ByteBuffer.allocate(1)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"2.7", "3.11", "3.13"})
  void wrongKeyFailsOnBothSidesInCPythonsWords(String version) throws Exception {
    List<String> out = runParent(version, "0badc0de", KEY);
    assertEquals(List.of("child exit 3", "child: digest received was wrong",
        "parent: digest sent was rejected"), out.stream().sorted().toList());
  }

  @Test
  void refusesADescriptorThatIsNotOpen() {
    IOException e = assertThrows(IOException.class,
        () -> Inherited.connection(999_999, Access.DUPLEX, ConnectionOptions.defaults()));
    assertEquals("descriptor 999999 is not open", e.getMessage());
  }

  @Test
  void refusesANegativeDescriptor() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Inherited.connection(-1, Access.DUPLEX, ConnectionOptions.defaults()));
    assertEquals("descriptor < 0: -1", e.getMessage());
  }

  @Test
  void refusesARegularFileAndLeavesItOpen() throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "data");
    try (FileInputStream in = new FileInputStream(file.toFile())) {
      int fd = InheritedDescriptors.number(in.getFD());
      IOException e = assertThrows(IOException.class,
          () -> Inherited.connection(fd, Access.DUPLEX, ConnectionOptions.defaults()));
      assertEquals("descriptor " + fd + " is a regular file, not a unix socket or a pipe",
          e.getMessage());
      assertEquals("data", new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /** Runs the Python parent, which starts {@link InheritedChildMain}; returns both's lines. */
  private List<String> runParent(String version, String first, String second)
      throws Exception {
    Path python = Pythons.require(version);
    Path script = Pythons.script("/python/inheriting_parent.py");
    List<String> command = new ArrayList<>(List.of(python.toString(), script.toString(),
        first, second, Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
    command.addAll(List.of("-cp", System.getProperty("java.class.path"),
        InheritedChildMain.class.getName()));
    // Output to a file, read once the parent has exited: a hung child cannot hang the test.
    Path output = dir.resolve("output");
    Process parent = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(output.toFile()).start();
    try {
      parent.getOutputStream().close();
      boolean exited = parent.waitFor(90, TimeUnit.SECONDS);
      String text = Files.readString(output);
      assertTrue(exited, "python parent did not exit: " + text);
      assertEquals(0, parent.exitValue(), text);
      return text.lines().toList();
    } finally {
      parent.destroyForcibly();
    }
  }
}
