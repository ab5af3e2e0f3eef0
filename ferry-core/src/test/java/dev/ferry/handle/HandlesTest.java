package dev.ferry.handle;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.LeakCheck;
import dev.ferry.Listener;
import dev.ferry.Pipe;
import dev.ferry.Receiver;
import dev.ferry.codec.CodecException;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.newsclub.net.unix.AFPipe;

@ExtendWith(LeakCheck.class)
class HandlesTest {

  /**
   * The sockets and pipes this process has open: what passing connections creates and closes.
   * Other descriptors come and go with the JVM's own work (a selector that an idle poller closes,
   * a flight recording's files) and would make the count of a test depend on its neighbours.
   */
  static int openDescriptorCount() {
    File[] fds = new File("/proc/self/fd").listFiles();
    if (fds == null) return -1;
    int count = 0;
    for (File fd : fds) {
      try {
        String target = Files.readSymbolicLink(fd.toPath()).toString();
        if (target.startsWith("socket:") || target.startsWith("pipe:")) count++;
      } catch (IOException e) {
        // Closed while we looked: not open.
      }
    }
    return count;
  }

  private static byte[] b(String s) {
    return s.getBytes(UTF_8);
  }

  @Test
  void movedConnectionKeepsWorkingForTheReceiverAfterTheSenderCopyCloses() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      Handles.sendConnection(carrier.first(), target.first(), Ownership.MOVE);
      assertTrue(target.first().isClosed());
      try (Connection got = Handles.receiveConnection(carrier.second(), Access.DUPLEX)) {
        got.sendBytes(b("from the receiver"));
        assertArrayEquals(b("from the receiver"), target.second().receiveBytes());
        target.second().sendBytes(b("answer"));
        assertArrayEquals(b("answer"), got.receiveBytes());
      }
    }
  }

  @Test
  void closingTheDuplicatesOwnCopyDoesNotShutDownTheReceivers() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      Handles.sendConnection(carrier.first(), target.first(), Ownership.DUPLICATE);
      assertFalse(target.first().isClosed());
      try (Connection got = Handles.receiveConnection(carrier.second(), Access.DUPLEX)) {
        target.first().sendBytes(b("still mine"));
        assertArrayEquals(b("still mine"), target.second().receiveBytes());
        target.first().close();
        target.second().sendBytes(b("after close"));
        assertArrayEquals(b("after close"), got.receiveBytes());
        got.sendBytes(b("back"));
        assertArrayEquals(b("back"), target.second().receiveBytes());
      }
    }
  }

  @Test
  void refusesToPassOverTcpBeforeSendingAnything() throws IOException {
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0));
        Connection client = Client.connect(listener.address());
        Connection server = listener.accept();
        Pipe.Duplex target = Pipe.duplex()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Handles.sendConnection(client, target.first(), Ownership.MOVE));
      assertTrue(e.getMessage().startsWith("cannot pass descriptors over"), e.getMessage());
      assertFalse(target.first().isClosed());
      assertFalse(server.poll());
      assertThrows(IllegalArgumentException.class,
          () -> Handles.send(client, new HashMap<>(Map.of("reply_to", target.first())), Ownership.MOVE));
      assertFalse(server.poll());
    }
  }

  @Test
  void connectionNestedInAMapArrivesWorking() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      HashMap<String, Object> inner = new HashMap<>();
      inner.put("reply_to", target.first());
      ArrayList<Object> list = new ArrayList<>(List.of("question", inner));
      HashMap<String, Object> message = new HashMap<>(Map.of("n", 42, "body", list));
      Handles.send(carrier.first(), message, Ownership.MOVE);
      assertTrue(target.first().isClosed());

      @SuppressWarnings("unchecked")
      Map<String, Object> got = Handles.receive(carrier.second(), Map.class,
          Set.of(HashMap.class, ArrayList.class));
      assertEquals(42, got.get("n"));
      @SuppressWarnings("unchecked")
      List<Object> body = (List<Object>) got.get("body");
      assertEquals("question", body.get(0));
      @SuppressWarnings("unchecked")
      Connection replyTo = (Connection) ((Map<String, Object>) body.get(1)).get("reply_to");
      try (replyTo) {
        replyTo.sendBytes(b("42 it is"));
        assertArrayEquals(b("42 it is"), target.second().receiveBytes());
      }
    }
  }

  @Test
  void readEndOfAOneWayPipeStaysReadOnly() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.OneWay pipe = Pipe.oneWay()) {
      Handles.send(carrier.first(), new ArrayList<>(List.of(pipe.reader())), Ownership.MOVE);
      List<?> got = Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class));
      Receiver reader = (Receiver) got.get(0);
      try (reader) {
        Connection asConnection = (Connection) reader;
        assertFalse(asConnection.isWritable());
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> asConnection.sendBytes(b("no")));
        assertEquals("connection is read-only", e.getMessage());
        pipe.writer().sendBytes(b("one way"));
        assertArrayEquals(b("one way"), reader.receiveBytes());
      }
    }
  }

  @Test
  void sameConnectionTwiceInAMessageTravelsOnce() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      Handles.send(carrier.first(), new ArrayList<>(List.of(target.first(), target.first())),
          Ownership.MOVE);
      List<?> got = Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class));
      assertTrue(got.get(0) == got.get(1));
      ((Connection) got.get(0)).close();
    }
  }

  /** A class the receiver does not allow: the message is refused and its descriptor closed. */
  record Secret(String value) implements Serializable {}

  @Test
  void refusedMessageClosesTheConnectionsItCarried() throws IOException {
    int before = openDescriptorCount();
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      Handles.send(carrier.first(),
          new ArrayList<>(List.of(target.first(), new Secret("x"))), Ownership.MOVE);
      CodecException e = assertThrows(CodecException.class,
          () -> Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class)));
      assertTrue(e.getMessage().contains("class not allowed"), e.getMessage());
      assertEquals(before + 3, openDescriptorCount()); // carrier pair and target.second
    }
  }

  @Test
  void descriptorsOfAMessageReceivedPlainlyAreClosedAtTheNextMessage() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      int before = openDescriptorCount();
      Handles.send(carrier.first(), new ArrayList<>(List.of(target.first())), Ownership.MOVE);
      carrier.first().sendBytes(b("next"));
      carrier.second().receiveBytes(); // the handle message, its descriptor unclaimed
      assertArrayEquals(b("next"), carrier.second().receiveBytes());
      assertEquals(before - 1, openDescriptorCount());
      // Nobody holds the moved end any more: its peer sees end of stream.
      assertThrows(EOFException.class, () -> target.second().receiveBytes());
    }
  }

  @Test
  void descriptorsFindTheirFrameAmongFramesReadAhead() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex a = Pipe.duplex();
        Pipe.Duplex c = Pipe.duplex()) {
      carrier.first().sendBytes(b("one"));
      Handles.send(carrier.first(), new ArrayList<>(List.of("a", a.first())), Ownership.MOVE);
      carrier.first().sendBytes(b("two"));
      Handles.send(carrier.first(), new ArrayList<>(List.of("c", c.first())), Ownership.MOVE);
      carrier.first().sendBytes(b("three"));
      assertArrayEquals(b("one"), carrier.second().receiveBytes());
      List<?> first = Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class));
      assertArrayEquals(b("two"), carrier.second().receiveBytes());
      List<?> second = Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class));
      assertArrayEquals(b("three"), carrier.second().receiveBytes());
      try (Connection ra = (Connection) first.get(1); Connection rc = (Connection) second.get(1)) {
        ra.sendBytes(b("to a"));
        rc.sendBytes(b("to c"));
        assertArrayEquals(b("to a"), a.second().receiveBytes());
        assertArrayEquals(b("to c"), c.second().receiveBytes());
      }
    }
  }

  @Test
  void pipeEndsReceivedInThePlainFormBecomeOneWayConnections() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); AFPipe pipe = AFPipe.open()) {
      // What CPython's send_handle does with the ends of Pipe(duplex=False): os.pipe() ends.
      Handles.sendDescriptor(carrier.first(), pipe.source().getFileDescriptor());
      Handles.sendDescriptor(carrier.first(), pipe.sink().getFileDescriptor());
      try (Connection reader = Handles.receiveConnection(carrier.second(), Access.READ_ONLY);
          Connection writer = Handles.receiveConnection(carrier.second(), Access.WRITE_ONLY)) {
        assertTrue(reader.isReadable() && !reader.isWritable());
        assertTrue(writer.isWritable() && !writer.isReadable());
        writer.sendBytes(b("through a real pipe"));
        assertArrayEquals(b("through a real pipe"), reader.receiveBytes());
        writer.close();
        pipe.sink().close();
        assertThrows(EOFException.class, reader::receiveBytes);
      }
    }
  }

  @Test
  void pipeEndThatCannotDoWhatIsAskedIsRefusedAndClosed() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); AFPipe pipe = AFPipe.open()) {
      Handles.sendDescriptor(carrier.first(), pipe.source().getFileDescriptor());
      IOException e = assertThrows(IOException.class,
          () -> Handles.receiveConnection(carrier.second(), Access.DUPLEX));
      assertTrue(e.getMessage().matches("received descriptor \\d+ is a pipe's read end: it"
          + " cannot send"), e.getMessage());
    }
  }

  @Test
  void aByteWithoutADescriptorIsRefused() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex()) {
      // What CPython's test_missing_fd_transfer sends: the byte and no descriptor.
      carrier.first().sendBytes(new byte[0]); // a zero-length frame: four zero bytes
      DescriptorPassingException e = assertThrows(DescriptorPassingException.class,
          () -> Handles.receiveDescriptor(carrier.second()));
      assertEquals("received 0 descriptors, expected 1", e.getMessage());
    }
  }

  @Test
  void thousandPassesBackAndForthLeaveTheDescriptorCountWhereItStarted() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      int before = openDescriptorCount();
      Connection mine = target.first();
      for (int i = 0; i < 1000; i++) {
        boolean forth = i % 2 == 0;
        Connection from = forth ? carrier.first() : carrier.second();
        Connection to = forth ? carrier.second() : carrier.first();
        if (i % 4 < 2) {
          Handles.sendConnection(from, mine, Ownership.MOVE);
          mine = Handles.receiveConnection(to, Access.DUPLEX);
        } else {
          Handles.send(from, new ArrayList<>(List.of(mine)), Ownership.MOVE);
          mine = (Connection) Handles.receive(to, List.class, Set.of(ArrayList.class)).get(0);
        }
      }
      assertEquals(before, openDescriptorCount());
      mine.sendBytes(b("still the same socket"));
      assertArrayEquals(b("still the same socket"), target.second().receiveBytes());
      mine.close();
    }
  }

  @Test
  void messageNeverReceivedDoesNotPinTheMovedDescriptorInTheSender() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      int before = openDescriptorCount();
      Handles.send(carrier.first(), new ArrayList<>(List.of(target.first())), Ownership.MOVE);
      // Nobody receives: the descriptor waits in the carrier's queue in the kernel, not here.
      assertEquals(before - 1, openDescriptorCount());
      carrier.second().close();
      // Closing the receiving end drops the queued message and its descriptor: the peer of the
      // moved connection sees end of stream.
      assertThrows(EOFException.class, () -> target.second().receiveBytes());
    }
  }

  @Test
  void unclaimedDescriptorsAreClosedWithTheConnection() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      Handles.send(carrier.first(), new ArrayList<>(List.of(target.first())), Ownership.MOVE);
      assertTrue(carrier.second().poll(Duration.ofSeconds(5))); // read ahead, fd taken in
      carrier.second().close();
      assertThrows(EOFException.class, () -> target.second().receiveBytes());
    }
  }

  @Test
  void receivedConnectionOutlivesTheConnectionItCameOver() throws IOException {
    // junixsocket closes what a socket received when that socket closes, unless Ferry detaches it.
    try (Pipe.Duplex target = Pipe.duplex()) {
      Connection got;
      try (Pipe.Duplex carrier = Pipe.duplex()) {
        Handles.sendConnection(carrier.first(), target.first(), Ownership.MOVE);
        got = Handles.receiveConnection(carrier.second(), Access.DUPLEX);
      }
      try (got) {
        got.sendBytes(b("after the carrier closed"));
        assertArrayEquals(b("after the carrier closed"), target.second().receiveBytes());
      }
    }
  }

  @Test
  void movedListenerAcceptsInTheReceiverAndKeepsItsKeyAndSocketFile() throws Exception {
    Path dir = Files.createTempDirectory("ferry-handles");
    Address address = new Address.Unix(dir.resolve("l.sock"));
    AuthKey key = AuthKey.random();
    ConnectionOptions options = ConnectionOptions.builder().authKey(key).build();
    try (Pipe.Duplex carrier = Pipe.duplex()) {
      Listener listener = Listener.bind(address, options);
      Handles.send(carrier.first(), new ArrayList<>(List.of(listener)), Ownership.MOVE);
      assertTrue(listener.isClosed());
      assertTrue(Files.exists(dir.resolve("l.sock")), "socket file kept for the receiver");
      List<?> got = Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class));
      try (Listener received = (Listener) got.get(0);
          Connection client = Client.connect(address, options);
          Connection server = received.accept(Duration.ofSeconds(10))) {
        assertEquals(address, received.address());
        client.sendBytes(b("accepted by the listener that travelled"));
        assertArrayEquals(b("accepted by the listener that travelled"), server.receiveBytes());
      }
      assertFalse(Files.exists(dir.resolve("l.sock")), "the receiver removes it");
    } finally {
      Files.deleteIfExists(dir.resolve("l.sock"));
      Files.deleteIfExists(dir);
    }
  }

  @Test
  void duplicatedListenerKeepsAcceptingAfterTheSenderCopyCloses() throws Exception {
    Address address = new Address.Abstract("ferry-handles-" + UUID.randomUUID());
    try (Pipe.Duplex carrier = Pipe.duplex()) {
      Listener listener = Listener.bind(address);
      Handles.send(carrier.first(), new ArrayList<>(List.of(listener)), Ownership.DUPLICATE);
      List<?> got = Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class));
      listener.close();
      try (Listener received = (Listener) got.get(0);
          Connection client = Client.connect(address);
          Connection server = received.accept(Duration.ofSeconds(10))) {
        server.sendBytes(b("still listening"));
        assertArrayEquals(b("still listening"), client.receiveBytes());
      }
    }
  }

  @Test
  void receiverClosingItsCopyLeavesTheSendersDuplicateWorking() throws IOException {
    try (Pipe.Duplex carrier = Pipe.duplex(); Pipe.Duplex target = Pipe.duplex()) {
      Handles.sendConnection(carrier.first(), target.first(), Ownership.DUPLICATE);
      Handles.receiveConnection(carrier.second(), Access.DUPLEX).close();
      Handles.send(carrier.first(), new ArrayList<>(List.of(target.first())), Ownership.DUPLICATE);
      ((Connection) Handles.receive(carrier.second(), List.class, Set.of(ArrayList.class)).get(0))
          .close();
      target.first().sendBytes(b("mine still works"));
      assertArrayEquals(b("mine still works"), target.second().receiveBytes());
      target.second().sendBytes(b("both ways"));
      assertArrayEquals(b("both ways"), target.first().receiveBytes());
    }
  }
}
