package dev.ferry.handle;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.LeakCheck;
import dev.ferry.Pythons;
import dev.ferry.RawPipe;
import dev.ferry.RawReader;
import dev.ferry.async.AsyncRawReader;
import dev.ferry.async.AsyncRawWriter;
import dev.ferry.async.EventLoops;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seed 003's system with a Java parent: a raw pipe whose one end goes to a child process and
 * whose other end the parent drives from an event loop. The Python child runs aiopipe's own code
 * (from the seed, stdlib asyncio only) on the descriptor it receives.
 */
@ExtendWith(LeakCheck.class)
class RawPipeChildTest {
  /** The seed's childProc, as it is, on the write end the parent sent. */
  static final String CHILD_WRITES = String.join("\n",
      "import asyncio, sys",
      "sys.path.insert(0, sys.argv[1])",
      "from contextlib import closing",
      "import ferry_child",
      "from aiopipe import AioPipeWriter",
      "def childProc(tx):",
      "    eventLoop = asyncio.new_event_loop()",
      "    stream = eventLoop.run_until_complete(tx.open(eventLoop))",
      "    with closing(stream):",
      "        stream.write(b'hi from child process\\n')",
      "parent = ferry_child.connect_to_parent()",
      "childProc(AioPipeWriter(ferry_child.receive_fd(parent)))");

  /** Reads lines with aiopipe's reader until the end; answers with their count and SHA-256. */
  static final String CHILD_READS = String.join("\n",
      "import asyncio, hashlib, sys",
      "sys.path.insert(0, sys.argv[1])",
      "import ferry_child",
      "from aiopipe import AioPipeReader",
      "async def main(loop, rx, parent):",
      "    stream = await rx.open(loop)",
      "    digest, count = hashlib.sha256(), 0",
      "    while True:",
      "        line = await stream.readline()",
      "        if not line:",
      "            break",
      "        digest.update(line)",
      "        count += 1",
      "    parent.send_bytes(('%d %s' % (count, digest.hexdigest())).encode('ascii'))",
      "parent = ferry_child.connect_to_parent()",
      "rx = AioPipeReader(ferry_child.receive_fd(parent))",
      "loop = asyncio.new_event_loop()",
      "loop.run_until_complete(main(loop, rx, parent))");

  /** Writes {@code argv[2]} numbered lines with aiopipe's writer, draining as asyncio wants. */
  static final String CHILD_WRITES_MANY = String.join("\n",
      "import asyncio, sys",
      "sys.path.insert(0, sys.argv[1])",
      "import ferry_child",
      "from aiopipe import AioPipeWriter",
      "async def main(loop, tx, n):",
      "    stream = await tx.open(loop)",
      "    stream.transport.set_write_buffer_limits(high=4 * 65536)",
      "    for i in range(n):",
      "        stream.write(b'%07d %s\\n' % (i, b'x' * 91))",
      "        await stream.drain()",
      "    stream.transport.set_write_buffer_limits(high=0)",
      "    await stream.drain()  # all of it: close() does not wait for what is buffered",
      "    stream.close()",
      "parent = ferry_child.connect_to_parent()",
      "tx = AioPipeWriter(ferry_child.receive_fd(parent))",
      "loop = asyncio.new_event_loop()",
      "loop.run_until_complete(main(loop, tx, int(sys.argv[2])))");

  /** Python makes the raw pipe (a socket pair, see RawPipe) and hands Java the read end. */
  static final String CHILD_SENDS_READ_END = String.join("\n",
      "import asyncio, socket, sys",
      "sys.path.insert(0, sys.argv[1])",
      "from contextlib import closing",
      "from multiprocessing.reduction import send_handle",
      "import ferry_child",
      "from aiopipe import AioPipeWriter",
      "parent = ferry_child.connect_to_parent()",
      "rx, tx = socket.socketpair()",
      "send_handle(parent, rx.fileno(), 0)",
      "rx.close()",
      "loop = asyncio.new_event_loop()",
      "stream = loop.run_until_complete(AioPipeWriter(tx.detach()).open(loop))",
      "with closing(stream):",
      "    stream.write(b'hi from the pipe python made\\n')");

  @TempDir Path dir;

  private Path aiopipe() throws IOException {
    try (InputStream in = RawPipeChildTest.class.getResourceAsStream("aiopipe.py")) {
      Files.copy(in, dir.resolve("aiopipe.py"));
    }
    return dir;
  }

  @Test
  void javaChildWritesALineTheParentReadsOnTheLoop() throws Exception {
    try (ChildProcess child = ChildProcess.startJava(RawPipeChildMain.class,
        List.of("write"))) {
      assertEquals("hi from child process\n", readOneLine(child));
    }
  }

  @Test
  void javaChildReadsTheLinesTheParentWritesOnTheLoop() throws Exception {
    try (ChildProcess child = ChildProcess.startJava(RawPipeChildMain.class, List.of("read"));
        EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open()) {
      Handles.sendRawEnd(child.connection(), pipe.reader(), Ownership.MOVE);
      try (AsyncRawWriter tx = AsyncRawWriter.of(pipe.writer(), loops)) {
        for (int i = 0; i < 5_000; i++) tx.write(line(i));
        tx.drain().get(60, TimeUnit.SECONDS);
      }
      assertEquals("5000", new String(child.connection().receiveBytes(), US_ASCII));
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @ParameterizedTest(name = "CPython {0}")
  @ValueSource(strings = {"3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"})
  void aiopipeChildWritesALineTheParentReadsOnTheLoop(String version) throws Exception {
    try (ChildProcess child = ChildProcess.startPythonCode(Pythons.require(version), CHILD_WRITES,
        List.of(aiopipe().toString()))) {
      assertEquals("hi from child process\n", readOneLine(child));
    }
  }

  @Test
  void pythonChildHandsJavaTheReadEndOfASocketPair() throws Exception {
    try (ChildProcess child = ChildProcess.startPythonCode(Pythons.require("3.13"),
        CHILD_SENDS_READ_END, List.of(aiopipe().toString()));
        RawReader rx = Handles.receiveRawReader(child.connection())) {
      assertEquals("hi from the pipe python made\n",
          new String(rx.inputStream().readAllBytes(), US_ASCII));
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  /** The seed's parent: a line on the loop, then end of stream once the child is gone. */
  private static String readOneLine(ChildProcess child) throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open()) {
      // aiopipe's "with tx.send()": the child gets the write end, this process's copy is closed.
      Handles.sendRawEnd(child.connection(), pipe.writer(), Ownership.MOVE);
      AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops);
      String line = new String(rx.readLine(65536).get(60, TimeUnit.SECONDS), US_ASCII);
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
      assertEquals(0, rx.readSome(1).get(30, TimeUnit.SECONDS).length, "end of stream");
      return line;
    }
  }

  @ParameterizedTest(name = "CPython {0}")
  @ValueSource(strings = {"3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"})
  void parentWritesManyLinesUnderBackpressureToAnAiopipeReader(String version) throws Exception {
    int lines = 20_000; // 2 MB: ten times what the kernel buffers
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (ChildProcess child = ChildProcess.startPythonCode(Pythons.require(version), CHILD_READS,
        List.of(aiopipe().toString()));
        EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open()) {
      Handles.sendRawEnd(child.connection(), pipe.reader(), Ownership.MOVE);
      try (AsyncRawWriter tx = AsyncRawWriter.of(pipe.writer(), loops)) {
        // At most 64 writes outstanding: the memory this side holds stays bounded.
        ArrayDeque<CompletableFuture<Void>> window = new ArrayDeque<>();
        for (int i = 0; i < lines; i++) {
          byte[] line = line(i);
          digest.update(line);
          if (window.size() == 64) window.poll().get(60, TimeUnit.SECONDS);
          window.add(tx.write(line));
        }
        tx.drain().get(60, TimeUnit.SECONDS);
      }
      String expected = lines + " " + HexFormat.of().formatHex(digest.digest());
      assertEquals(expected, new String(child.connection().receiveBytes(), US_ASCII));
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  @ParameterizedTest(name = "CPython {0}")
  @ValueSource(strings = {"3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"})
  void aiopipeChildWritesManyLinesThatArriveInOrder(String version) throws Exception {
    int lines = 20_000;
    try (ChildProcess child = ChildProcess.startPythonCode(Pythons.require(version),
        CHILD_WRITES_MANY, List.of(aiopipe().toString(), Integer.toString(lines)));
        EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open()) {
      Handles.sendRawEnd(child.connection(), pipe.writer(), Ownership.MOVE);
      try (AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
        for (int i = 0; i < lines; i++) {
          byte[] expected = String.format("%07d %s\n", i, "x".repeat(91)).getBytes(US_ASCII);
          assertArrayEquals(expected, rx.readLine(200).get(60, TimeUnit.SECONDS), "line " + i);
        }
        assertEquals(0, rx.readSome(1).get(60, TimeUnit.SECONDS).length, "end of stream");
      }
      assertEquals(0, child.closeAndWait(Duration.ofSeconds(30)));
    }
  }

  private static byte[] line(int i) {
    return String.format("%07d %s\n", i, "y".repeat(91)).getBytes(US_ASCII);
  }
}
