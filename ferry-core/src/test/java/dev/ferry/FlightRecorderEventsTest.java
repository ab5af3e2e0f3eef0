package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import dev.ferry.internal.auth.HandshakeChannel;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.transport.Deadlines;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LeakCheck.class)
class FlightRecorderEventsTest {
  private static final AuthKey KEY = AuthKey.fromHex("00112233445566778899");
  private static final AuthKey OTHER = AuthKey.fromHex("99887766554433221100");

  @TempDir Path dir;

  private static ConnectionOptions withKey(AuthKey key) {
    return ConnectionOptions.builder().authKey(key).handshakeTimeout(Duration.ofSeconds(10)).build();
  }

  private List<RecordedEvent> record(ThrowingRunnable work) throws Exception {
    Path file = dir.resolve("events.jfr");
    try (Recording recording = new Recording()) {
      for (String name : List.of("ConnectionOpened", "HandshakeFailed", "ConnectionClosed",
          "MessageSent", "MessageReceived", "DescriptorPassed", "ChildExited")) {
        recording.enable("dev.ferry." + name);
      }
      recording.start();
      work.run();
      recording.stop();
      recording.dump(file);
    }
    return RecordingFile.readAllEvents(file);
  }

  private static List<RecordedEvent> named(List<RecordedEvent> events, String name,
      Predicate<RecordedEvent> filter) {
    return events.stream().filter(e -> e.getEventType().getName().equals("dev.ferry." + name))
        .filter(filter).toList();
  }

  @Test
  void recordsOpeningAClosingAndOnlyTheLargeMessagesWithoutStackTraces() throws Exception {
    List<RecordedEvent> events = record(() -> {
      try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("e.sock")), withKey(KEY));
          Connection client = Client.connect(listener.address(), withKey(KEY));
          Connection accepted = listener.accept(Duration.ofSeconds(10))) {
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
          try {
            accepted.receiveBytes();
            return accepted.receiveBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
        client.sendBytes(new byte[10]);
        client.sendBytes(new byte[2 << 20]);
        assertEquals(2 << 20, received.get(10, TimeUnit.SECONDS).length);
      }
    });
    List<RecordedEvent> opened = named(events, "ConnectionOpened", e -> true);
    assertEquals(List.of("accepted", "connected"),
        opened.stream().map(e -> e.getString("side")).sorted().toList());
    assertTrue(opened.stream().allMatch(e -> e.getString("transport").equals("unix")
        && e.getString("digest").equals("sha256") && e.getLong("peerPid") == ProcessHandle.current().pid()));
    RecordedEvent sent = named(events, "MessageSent", e -> true).get(0);
    assertEquals(2 << 20, sent.getLong("size"));
    assertEquals(1, named(events, "MessageSent", e -> true).size());
    assertEquals(1, named(events, "MessageReceived", e -> e.getLong("size") == 2 << 20).size());
    List<RecordedEvent> closed = named(events, "ConnectionClosed",
        e -> e.getLong("bytesReceived") >= 10 + (2 << 20) && e.getLong("lifetime") > 0);
    assertEquals(1, closed.size());
    assertEquals("local", closed.get(0).getString("closedBy"));
    assertTrue(events.stream().allMatch(e -> e.getStackTrace() == null));
  }

  @Test
  void recordsAWrongKeyAsAFailedHandshakeOnBothSidesWithItsReason() throws Exception {
    List<RecordedEvent> events = record(() -> {
      try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("w.sock")), withKey(KEY))) {
        assertThrows(AuthenticationException.class,
            () -> Client.connect(listener.address(), withKey(OTHER)));
        assertThrows(AuthenticationException.class, () -> listener.accept(Duration.ofSeconds(10)));
      }
    });
    List<RecordedEvent> failed = named(events, "HandshakeFailed", e -> true);
    assertEquals(List.of("accepted", "connected"),
        failed.stream().map(e -> e.getString("side")).sorted().toList());
    assertTrue(failed.stream().allMatch(e -> e.getString("reason").equals("wrong key")
        && e.getString("address").endsWith("w.sock")), failed.toString());
  }

  @Test
  void recordsTheDigestALegacyOrSeed001ClientAnsweredIn() throws Exception {
    List<RecordedEvent> events = record(() -> {
      try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("l.sock")), withKey(KEY))) {
        for (String algorithm : List.of("HmacMD5", "HmacSHA256")) {
          try (Connection client = Client.connect(listener.address());
              Connection ignored = answerLikeAnOldPython(client, listener, algorithm)) {
            assertTrue(client.isWritable());
          }
        }
      }
    });
    assertEquals(List.of("md5", "sha256"), named(events, "ConnectionOpened",
        e -> e.getString("side").equals("accepted")).stream().map(e -> e.getString("digest"))
        .toList());
  }

  /**
   * The client side of a handshake as Python before 3.12 (HmacMD5) or seed 001's variant
   * (HmacSHA256) runs it: raw MACs, a 20-byte challenge. Returns the listener's end.
   */
  private static Connection answerLikeAnOldPython(Connection client, Listener listener,
      String algorithm) throws Exception {
    Mac mac = Mac.getInstance(algorithm);
    mac.init(new SecretKeySpec(KEY.bytes(), algorithm));
    byte[] challenge = client.receiveBytes();
    client.sendBytes(mac.doFinal(Arrays.copyOfRange(challenge, 11, challenge.length)));
    assertEquals("#WELCOME#", new String(client.receiveBytes(), StandardCharsets.US_ASCII));
    byte[] nonce = new byte[20];
    client.sendBytes(("#CHALLENGE#" + "n".repeat(20)).getBytes(StandardCharsets.US_ASCII));
    Arrays.fill(nonce, (byte) 'n');
    assertArrayEquals(mac.doFinal(nonce), client.receiveBytes());
    client.sendBytes("#WELCOME#".getBytes(StandardCharsets.US_ASCII));
    return listener.accept(Duration.ofSeconds(10));
  }

  @Test
  void recordsAnAsynchronousConnectAsOpenedWithItsDigest() throws Exception {
    List<RecordedEvent> events = record(() -> {
      try (EventLoops loops = EventLoops.open();
          Listener listener = Listener.bind(new Address.Unix(dir.resolve("a.sock")), withKey(KEY));
          AsyncConnection client = Client.connectAsync(listener.address(), withKey(KEY), loops)
              .get(10, TimeUnit.SECONDS);
          Connection accepted = listener.accept(Duration.ofSeconds(10))) {
        assertTrue(accepted.isWritable());
      }
    });
    List<RecordedEvent> connected = named(events, "ConnectionOpened",
        e -> e.getString("side").equals("connected"));
    assertEquals(1, connected.size());
    assertEquals("sha256", connected.get(0).getString("digest"));
    assertTrue(connected.get(0).getLong("handshakeDuration") > 0);
  }

  @Test
  void recordsAClientsFailedHandshakesBlockingAndAsynchronous() throws Exception {
    ConnectionOptions impatient = ConnectionOptions.builder().authKey(KEY)
        .handshakeTimeout(Duration.ofMillis(200)).build();
    List<RecordedEvent> events = record(() -> {
      try (EventLoops loops = EventLoops.open();
          Listener keyed = Listener.bind(new Address.Unix(dir.resolve("k.sock")), withKey(KEY));
          Listener silent = Listener.bind(new Address.Unix(dir.resolve("s.sock")),
              ConnectionOptions.defaults())) {
        Throwable wrong = assertThrows(ExecutionException.class, () -> Client.connectAsync(
            keyed.address(), withKey(OTHER), loops).get(10, TimeUnit.SECONDS)).getCause();
        assertInstanceOf(AuthenticationException.class, wrong);
        assertThrows(AuthenticationException.class, () -> keyed.accept(Duration.ofSeconds(10)));
        assertThrows(SocketTimeoutException.class, () -> Client.connect(silent.address(), impatient));
        silent.accept(Duration.ofSeconds(10)).close();
        Throwable late = assertThrows(ExecutionException.class, () -> Client.connectAsync(
            silent.address(), impatient, loops).get(10, TimeUnit.SECONDS)).getCause();
        assertInstanceOf(SocketTimeoutException.class, late);
        silent.accept(Duration.ofSeconds(10)).close();
      }
    });
    assertEquals(List.of("timeout", "timeout", "wrong key"), named(events, "HandshakeFailed",
        e -> e.getString("side").equals("connected")).stream().map(e -> e.getString("reason"))
        .sorted().toList());
  }

  @Test
  void recordsThePeerAsCloserWhenItsEndOfStreamWasReadFirst() throws Exception {
    List<RecordedEvent> events = record(() -> {
      try (Pipe.Duplex pipe = Pipe.duplex()) {
        pipe.first().close();
        assertThrows(EOFException.class, () -> pipe.second().receiveBytes());
      }
    });
    assertEquals(List.of("local", "peer"), named(events, "ConnectionClosed", e -> true).stream()
        .map(e -> e.getString("closedBy")).sorted().toList());
  }

  @Test
  void recordsACloseTheEngineMadeItselfWhenItHappenedAndOnlyOnce() throws Exception {
    ConnectionOptions small = ConnectionOptions.builder().maxMessageSize(16).build();
    List<RecordedEvent> events = record(() -> {
      Path path = dir.resolve("c.sock");
      try (Listener listener = Listener.bind(new Address.Unix(path), ConnectionOptions.defaults());
          SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(path));
          Connection accepted = listener.accept(Duration.ofSeconds(10));
          RawPeer readEnd = RawPeer.open(small, true, false)) {
        raw.write(ByteBuffer.wrap(HexFormat.of().parseHex("00000064 0102".replace(" ", ""))));
        HandshakeChannel timed = ((FramedConnection) accepted)
            .handshakeChannel(Deadlines.after(Duration.ofMillis(100)));
        assertThrows(SocketTimeoutException.class, () -> timed.receiveMessage(256));
        assertTrue(accepted.isClosed());
        assertEquals(0, listener.metrics().open(), "counted down when the frame was cut");

        readEnd.write("00000064");
        assertThrows(MessageTooLargeException.class, () -> readEnd.endpoint.receiveBytes());
        assertTrue(readEnd.endpoint.isClosed());
      }
    });
    assertEquals(List.of("a read end refused a header", "a receive stopped inside a frame"),
        named(events, "ConnectionClosed", e -> true).stream().map(e -> e.getString("reason"))
            .sorted().toList());
  }

  @Test
  void recordsABlockingSendThatWaitedForRoomInANonBlockingSocket() throws Exception {
    int messages = 32;
    int size = 200 * 1024; // under the 1 MiB threshold: recorded only for having waited
    List<RecordedEvent> events = record(() -> {
      try (Pipe.Duplex pipe = Pipe.duplex()) {
        FramedConnection sender = (FramedConnection) pipe.first();
        sender.selectableChannel(); // as a wait set holding it leaves it: non-blocking
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
          try {
            for (int i = 0; i < messages; i++) sender.sendBytes(new byte[size]);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
        // 6 MiB through a socket that holds a few hundred KiB: the sender finds it full.
        for (int i = 0; i < messages; i++) assertEquals(size, pipe.second().receiveBytes().length);
        sent.get(10, TimeUnit.SECONDS);
        sender.releaseSelectableChannel();
      }
    });
    List<RecordedEvent> waited = named(events, "MessageSent", e -> true);
    assertFalse(waited.isEmpty());
    assertTrue(waited.stream().allMatch(e -> e.getBoolean("waitedForRoom")
        && !e.getBoolean("asynchronous") && e.getLong("size") == size), waited.toString());
  }

  @Test
  void recordsPipesAsOpenedWithoutAHandshake() throws Exception {
    List<RecordedEvent> events = record(() -> Pipe.duplex().close());
    assertEquals(2, named(events, "ConnectionOpened",
        e -> e.getString("side").equals("pipe") && e.getString("digest").equals("none")).size());
    assertEquals(2, named(events, "ConnectionClosed", e -> true).size());
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }
}
