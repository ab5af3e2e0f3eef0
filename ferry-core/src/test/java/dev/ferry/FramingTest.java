package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The frame decoder and encoder against exact bytes, the cases of PROTOCOL.md 1.1 to 1.5. */
@ExtendWith(LeakCheck.class)
class FramingTest {

  @Test
  void writesHeaderAndPayloadAsCpythonDoes() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.endpoint.sendBytes("hi".getBytes(UTF_8));
      assertEquals("000000026869", p.read(6));
      p.endpoint.sendBytes(new byte[0]);
      assertEquals("00000000", p.read(4));
      p.endpoint.sendBytes(new byte[70_000]);
      assertEquals("00011170", p.read(4));
      p.read(70_000);
    }
  }

  @Test
  void writesAndReadsTheFramesCpythonRecorded() throws Exception {
    String[] names = {"frame.py313.send_bytes.hi", "frame.py313.send_bytes.empty",
        "frame.py313.send.int1", "frame.py36.send.int1", "frame.py27.send.int1"};
    try (RawPeer p = RawPeer.open()) {
      for (String name : names) {
        byte[] frame = GoldenVectors.get(name);
        byte[] payload = GoldenVectors.payload(frame);
        p.endpoint.sendBytes(payload);
        assertEquals(java.util.HexFormat.of().formatHex(frame), p.read(frame.length), name);
        p.write(java.util.HexFormat.of().formatHex(frame));
        assertArrayEquals(payload, p.endpoint.receiveBytes(), name);
      }
      for (String name : new String[] {"frame.py313.send_bytes.16384.header",
          "frame.py313.send_bytes.16385.header"}) {
        byte[] header = GoldenVectors.get(name);
        int length = ByteBuffer.wrap(header).getInt();
        p.endpoint.sendBytes(new byte[length]);
        assertEquals(java.util.HexFormat.of().formatHex(header), p.read(4), name);
        p.read(length);
      }
    }
  }

  @Test
  void writesLongHeaderAbove2GiB() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      long size = 0x80000000L;
      CompletableFuture<Throwable> sender = CompletableFuture.supplyAsync(() -> {
        try {
          p.endpoint.sendFrom(new Zeros(size), size);
          return null;
        } catch (Throwable t) {
          return t;
        }
      });
      assertEquals("ffffffff0000000080000000", p.read(12));
      p.closeRaw(); // the sender now fails instead of pushing 2 GiB
      Throwable t = sender.get(30, TimeUnit.SECONDS);
      assertTrue(t instanceof IOException, "got " + t);
    }
  }

  @Test
  void readsLongHeaderForAnySize() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.write("ffffffff 0000000000000003 78797a");
      assertEquals("xyz", new String(p.endpoint.receiveBytes(), UTF_8));
    }
  }

  @Test
  void rejectsNegativeLengthHeader() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.write("80000000");
      FramingException e = assertThrows(FramingException.class, p.endpoint::receiveBytes);
      assertEquals("negative message length: -2147483648", e.getMessage());
      assertFalse(p.endpoint.isReadable());
    }
  }

  @Test
  void rejectsLongLengthAbove63Bits() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.write("ffffffff 8000000000000000");
      FramingException e = assertThrows(FramingException.class, p.endpoint::receiveBytes);
      assertEquals("message length out of range: 9223372036854775808", e.getMessage());
    }
  }

  @Test
  void refusesHugeDeclaredLengthBeforeAllocating() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.write("ffffffff 0000010000000000"); // 2^40 bytes, never sent
      MessageTooLargeException e =
          assertThrows(MessageTooLargeException.class, p.endpoint::receiveBytes);
      assertEquals(1L << 40, e.length());
      assertEquals(ConnectionOptions.DEFAULT_MAX_MESSAGE_SIZE, e.limit());
      assertEquals("bad message length: 1099511627776 > limit 1073741824", e.getMessage());
    }
  }

  @Test
  void growsTheArrayOnlyAsBytesArrive() throws Exception {
    // Declares 64 MiB, sends 3 MiB, then ends: no 64 MiB array is needed to find that out.
    try (RawPeer p = RawPeer.open()) {
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          p.write("04000000");
          ByteBuffer chunk = ByteBuffer.allocate(3 << 20);
          while (chunk.hasRemaining()) p.raw.write(chunk);
          p.closeRaw();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      FramingException e = assertThrows(FramingException.class, p.endpoint::receiveBytes);
      assertEquals("got end of file during message", e.getMessage());
      writer.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void endOfStreamAtBoundaryIsEof() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.closeRaw();
      assertThrows(EOFException.class, p.endpoint::receiveBytes);
      assertTrue(p.endpoint.poll(), "end of stream counts as readable");
    }
  }

  @Test
  void seesLastMessageAndEndOfStreamThatArriveTogether() throws Exception {
    // A peer that sends and closes at once (as a Python client's send_bytes(); close() does):
    // the message and the hang-up reach a waiting reader in one wake-up.
    for (int round = 0; round < 20; round++) {
      try (RawPeer p = RawPeer.open()) {
        CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
          try {
            String got = new String(p.endpoint.receiveBytes(), UTF_8);
            p.endpoint.receiveBytes();
            return got + ", then no end of stream";
          } catch (EOFException e) {
            return "end";
          } catch (IOException e) {
            return e.toString();
          }
        });
        Thread.sleep(5);
        p.write("00000003 656e64");
        p.closeRaw();
        assertEquals("end", reader.get(5, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void endOfStreamInsideHeaderIsFramingError() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.write("0000");
      p.closeRaw();
      FramingException e = assertThrows(FramingException.class, p.endpoint::receiveBytes);
      assertEquals("got end of file during message", e.getMessage());
    }
  }

  @Test
  void endOfStreamAfterHeaderIsFramingError() throws Exception {
    // CPython raises EOFError here (a quirk of its counter); a cut frame is a cut frame.
    try (RawPeer p = RawPeer.open()) {
      p.write("00000005");
      p.closeRaw();
      assertThrows(FramingException.class, p.endpoint::receiveBytes);
    }
  }

  @Test
  void endOfStreamInsidePayloadIsFramingError() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.write("00000005 6869");
      p.closeRaw();
      assertThrows(FramingException.class, p.endpoint::receiveBytes);
      // As CPython: the stream has ended, so the end stays readable and reports the end.
      assertTrue(p.endpoint.isReadable());
      assertThrows(EOFException.class, p.endpoint::receiveBytes);
    }
  }

  @Test
  void endOfStreamInsideLongLengthIsFramingError() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      p.write("ffffffff 0000");
      p.closeRaw();
      assertThrows(FramingException.class, p.endpoint::receiveBytes);
    }
  }

  @Test
  void decodesFramesDeliveredOneByteAtATime() throws Exception {
    try (RawPeer p = RawPeer.open()) {
      ByteArrayOutputStream wire = new ByteArrayOutputStream();
      String[] messages = {"one", "", "three", "x".repeat(300)};
      for (String m : messages) {
        byte[] b = m.getBytes(UTF_8);
        wire.write(ByteBuffer.allocate(4).putInt(b.length).array());
        wire.write(b);
      }
      wire.write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 2, 'o', 'k'});
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          p.writeSlowly(wire.toByteArray());
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      for (String m : messages) assertEquals(m, new String(p.endpoint.receiveBytes(), UTF_8));
      byte[] into = new byte[2];
      assertEquals(2, p.endpoint.receiveBytesInto(into, 0));
      assertArrayEquals("ok".getBytes(UTF_8), into);
      writer.get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void tooLongMessageClosesReadOnlyEnd() throws Exception {
    try (RawPeer p = RawPeer.open(ConnectionOptions.defaults(), true, false)) {
      p.write("0000000a 00000000000000000000");
      assertThrows(MessageTooLargeException.class, () -> p.endpoint.receiveBytes(5));
      assertTrue(p.endpoint.isClosed());
      assertThrows(ConnectionClosedException.class, p.endpoint::receiveBytes);
    }
  }

  @Test
  void honoursConfiguredMaximumOnEveryReceivePath() throws Exception {
    ConnectionOptions small = ConnectionOptions.builder().maxMessageSize(8).build();
    try (RawPeer p = RawPeer.open(small, true, true)) {
      p.write("00000009");
      assertThrows(MessageTooLargeException.class,
          () -> p.endpoint.receiveBytesInto(ByteBuffer.allocate(100)));
    }
    try (RawPeer p = RawPeer.open(small, true, true)) {
      p.write("00000009");
      assertThrows(MessageTooLargeException.class,
          () -> p.endpoint.receive(dev.ferry.codec.Codecs.bytes()));
    }
    try (RawPeer p = RawPeer.open(small, true, true)) {
      p.write("00000009");
      assertThrows(MessageTooLargeException.class,
          () -> p.endpoint.receiveTo(java.nio.channels.Channels.newChannel(new ByteArrayOutputStream())));
    }
  }

  @Test
  void arrayReceivesRefuseMessagesOverTwoGibibytesWhateverTheLimit() throws Exception {
    // Only receiveTo can hold them; the others used to cast the length to a negative int.
    ConnectionOptions unlimited = ConnectionOptions.builder().maxMessageSize(Long.MAX_VALUE).build();
    java.util.List<ThrowingReceive> receives = java.util.List.of(
        e -> e.receiveBytes(),
        e -> e.receiveBytesInto(ByteBuffer.allocate(8)),
        e -> e.receive(dev.ferry.codec.Codecs.bytes()));
    for (ThrowingReceive receive : receives) {
      try (RawPeer p = RawPeer.open(unlimited, true, true)) {
        p.write("ffffffff 00000000c0000000");
        MessageTooLargeException e = assertThrows(MessageTooLargeException.class,
            () -> receive.run(p.endpoint));
        assertEquals("bad message length: 3221225472 > limit 2147483639", e.getMessage());
        assertFalse(p.endpoint.isReadable());
        p.endpoint.sendBytes(new byte[] {1});
        assertEquals("0000000101", p.read(5), "still writable");
      }
    }
  }

  private interface ThrowingReceive {
    void run(FramedConnection endpoint) throws IOException;
  }

  @Test
  void refusesLongFrameTowardPythonOlderThan38BeforeSendingAnything() throws Exception {
    ConnectionOptions old = ConnectionOptions.builder().peerPython(PythonVersion.parse("3.7.16")).build();
    try (RawPeer p = RawPeer.open(old, true, true)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> p.endpoint.sendFrom(new Zeros(0x80000000L), 0x80000000L));
      assertEquals("message of 2147483648 bytes is over 2147483647, the most python 3.7 can"
          + " receive (python 3.8+ reads longer ones)", e.getMessage());
      p.endpoint.sendBytes(new byte[] {1});
      assertEquals("0000000101", p.read(5), "nothing of the refused message went out");
    }
  }
}
