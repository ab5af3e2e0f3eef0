package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
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
        && e.getString("digest").equals("hmac") && e.getLong("peerPid") == ProcessHandle.current().pid()));
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
  void recordsAWrongKeyAsAFailedHandshakeWithItsReason() throws Exception {
    List<RecordedEvent> events = record(() -> {
      try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("w.sock")), withKey(KEY))) {
        assertThrows(AuthenticationException.class,
            () -> Client.connect(listener.address(), withKey(OTHER)));
        assertThrows(AuthenticationException.class, () -> listener.accept(Duration.ofSeconds(10)));
      }
    });
    List<RecordedEvent> failed = named(events, "HandshakeFailed", e -> true);
    assertEquals(1, failed.size());
    assertEquals("wrong key", failed.get(0).getString("reason"));
    assertFalse(failed.get(0).getString("address").isEmpty());
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
