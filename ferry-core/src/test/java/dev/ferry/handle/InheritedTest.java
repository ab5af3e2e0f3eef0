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
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
      try (Connection adopted = adoptCopyOf(parents)) {
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
        Connection adopted = adoptCopyOf(parents);
        AtomicReference<Throwable> received = new AtomicReference<>();
        Thread receiver = started("receiver", received, adopted::receiveBytes);
        Thread.sleep(round % 4); // 0 to 3 ms: the close meets the receive before, in, after poll
        Thread closer = started("closer", new AtomicReference<>(), adopted::close);
        joinAll(round, closer, receiver);
        Throwable t = received.get();
        assertTrue(t instanceof ConnectionClosedException, "round " + round + ": " + t);
        assertFalse(nonBlocking(parents.getFileDescriptor()), "round " + round);
      }
    }
  }

  /** A user closes (try-with-resources, a finally) on a thread whose interrupt status is set. */
  @Test
  void closeOnAnInterruptedThreadLeavesTheCopyBlocking() throws Exception {
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    try (AFUNIXSocketChannel parents = pair[0]; AFUNIXSocketChannel peer = pair[1]) {
      Connection adopted = adoptCopyOf(parents);
      assertFalse(adopted.poll(Duration.ofMillis(5))); // waits in poll: opens the read selector
      Thread.currentThread().interrupt();
      try {
        adopted.close();
      } finally {
        assertTrue(Thread.interrupted(), "close kept the interrupt");
      }
      assertFalse(nonBlocking(parents.getFileDescriptor()),
          "the parent's copy was left O_NONBLOCK by a close on an interrupted thread");
    }
  }

  /**
   * No user code involved: a receive interrupted inside a frame closes the connection itself
   * (FrameReceiver.unlockReceive), on the interrupted thread.
   */
  @Test
  void receiveInterruptedInsideAFrameLeavesTheCopyBlocking() throws Exception {
    AFUNIXSocketChannel[] pair = SocketPairs.open();
    try (AFUNIXSocketChannel parents = pair[0]; AFUNIXSocketChannel peer = pair[1]) {
      Connection adopted = adoptCopyOf(parents);
      try (adopted) {
        peer.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 10, 'h', 'a', 'l', 'f'})); // 4 of 10
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread receiver = started("receiver", failure, adopted::receiveBytes);
        Thread.sleep(300); // in poll, mid-frame
        receiver.interrupt();
        joinAll(0, receiver);
        assertTrue(failure.get() instanceof InterruptedIOException, String.valueOf(failure.get()));
        assertTrue(adopted.isClosed(), "a receive cut inside a frame closes the connection");
      }
      assertFalse(nonBlocking(parents.getFileDescriptor()),
          "the parent's copy was left O_NONBLOCK after an interrupted receive closed it");
    }
  }

  /**
   * A writer waiting for room and a reader waiting in poll at once, then a close from a third
   * thread: both end with ConnectionClosedException, close does not wait out its second for
   * either, and the parent's copy is blocking again.
   */
  @Test
  void closeWithAWriterWaitingForRoomAndAReaderInPoll() throws Exception {
    for (int round = 0; round < 20; round++) {
      AFUNIXSocketChannel[] pair = SocketPairs.open();
      try (AFUNIXSocketChannel parents = pair[0]; AFUNIXSocketChannel peer = pair[1]) {
        Connection adopted = adoptCopyOf(parents);
        AtomicReference<Throwable> sent = new AtomicReference<>();
        AtomicReference<Throwable> received = new AtomicReference<>();
        // The peer never reads: the sender waits for room.
        Thread sender = started("sender", sent, () -> adopted.sendBytes(new byte[8 << 20]));
        Thread receiver = started("receiver", received, adopted::receiveBytes);
        Thread.sleep(100 + round % 3);
        long start = System.nanoTime();
        adopted.close();
        long closeMillis = (System.nanoTime() - start) / 1_000_000;
        joinAll(round, sender, receiver);
        // Not the second that close waits, at most, for a thread that does not leave its selector.
        assertTrue(closeMillis < 1000, "round " + round + ": close took " + closeMillis + " ms");
        assertTrue(sent.get() instanceof ConnectionClosedException,
            "round " + round + ": " + sent.get());
        assertTrue(received.get() instanceof ConnectionClosedException,
            "round " + round + ": " + received.get());
        assertFalse(nonBlocking(parents.getFileDescriptor()), "round " + round);
      }
    }
  }

  /** A connection on a copy of {@code parents}, adopted as a child adopts what its parent passed. */
  private static Connection adoptCopyOf(AFUNIXSocketChannel parents) throws IOException {
    FileDescriptor copy = FileDescriptorCast.duplicating(parents.getFileDescriptor())
        .getFileDescriptor();
    return Inherited.connection(InheritedDescriptors.number(copy), Access.DUPLEX,
        ConnectionOptions.defaults());
  }

  private interface Call {
    void run() throws Exception;
  }

  /** A started thread that runs {@code call} and keeps what it throws in {@code failure}. */
  private static Thread started(String name, AtomicReference<Throwable> failure, Call call) {
    Thread thread = new Thread(() -> {
      try {
        call.run();
      } catch (Throwable t) {
        failure.set(t);
      }
    }, name);
    thread.start();
    return thread;
  }

  /** Waits for each thread up to 5 s; one still running fails the test, saying where it is. */
  private static void joinAll(int round, Thread... threads) throws InterruptedException {
    for (Thread t : threads) {
      t.join(5_000);
      assertFalse(t.isAlive(), () -> "round " + round + ": " + t.getName() + " stuck at "
          + Arrays.toString(t.getStackTrace()));
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
