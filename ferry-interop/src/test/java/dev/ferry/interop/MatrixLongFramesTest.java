package dev.ferry.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.LeakCheck;
import dev.ferry.PythonVersion;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Messages over 2 GiB against live CPython (PROTOCOL §1.1): the 64-bit length escape both ways
 * with 3.13, and the refusal to send one toward 3.7, which cannot read it. Slow (tens of seconds,
 * about 4 GiB of memory in Python), and part of the default build all the same.
 */
@Tag("slow")
@ExtendWith(LeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MatrixLongFramesTest {
  /** One message just over the 2^31-1 bytes a 4-byte header holds: driver.py's BIG_SIZE. */
  private static final long BIG = (1L << 31) + 16;
  private static final Duration BIG_STEP = Duration.ofMinutes(5);

  private Peers peers;
  private Path dir;

  @BeforeAll
  void startPeers() throws IOException {
    dir = Files.createTempDirectory("ferry-long");
    peers = Peers.start(List.of("3.7", "3.13"));
  }

  @AfterEach
  void readyPeers() throws IOException {
    peers.reset();
  }

  @AfterAll
  void stopPeers() throws IOException {
    if (peers != null) peers.close();
    Files.deleteIfExists(dir);
  }

  @Test
  void python313ReceivesAMessageOverTwoGibibytesStreamedByFerry() throws IOException {
    PythonPeer python = peers.get("3.13");
    Address address = python.serve(new Address.Unix(dir.resolve("recv")), null, "big-recv");
    PatternChannels.Source source = new PatternChannels.Source(BIG);
    try (Connection c = Client.connect(address, options("3.13").build())) {
      c.sendFrom(source, BIG);
    }
    assertEquals(BIG, source.position());
    assertEquals(String.format("ok received %d %08x", BIG, source.crc()), python.result(BIG_STEP));
  }

  @Test
  void ferryReceivesAMessageOverTwoGibibytesFromPython313() throws IOException {
    PythonPeer python = peers.get("3.13");
    Address address = python.serve(new Address.Unix(dir.resolve("send")), null, "big-send");
    PatternChannels.Check check = new PatternChannels.Check(BIG);
    try (Connection c = Client.connect(address, options("3.13").maxMessageSize(BIG).build())) {
      assertEquals(BIG, c.receiveTo(check));
    }
    assertEquals(String.format("ok sent %d %08x", BIG, check.crc()), python.result(BIG_STEP));
    assertEquals(BIG, check.position());
    assertEquals(-1, check.firstMismatch(), "offset of the first byte off the pattern");
  }

  @Test
  void refusesAMessageOverTwoGibibytesTowardPython37BeforeSendingAnything() throws IOException {
    PythonPeer python = peers.get("3.7");
    Address address = python.serve(new Address.Unix(dir.resolve("refuse")), null, "echo");
    PatternChannels.Source source = new PatternChannels.Source(1L << 31);
    try (Connection c = Client.connect(address, options("3.7").build())) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> c.sendFrom(source, 1L << 31));
      assertEquals("message of 2147483648 bytes is over 2147483647, the most python 3.7 can"
          + " receive (python 3.8+ reads longer ones)", e.getMessage());
      assertEquals(0, source.position(), "bytes taken from the source");
      // Nothing went out: the stream is still in step, and Python echoes the next message whole.
      byte[] after = "still in sync".getBytes(StandardCharsets.US_ASCII);
      c.sendBytes(after);
      assertArrayEquals(after, c.receiveBytes());
    }
    assertEquals("ok echoed 1", python.result());
  }

  private static ConnectionOptions.Builder options(String version) {
    return ConnectionOptions.builder().peerPython(PythonVersion.parse(version));
  }
}
