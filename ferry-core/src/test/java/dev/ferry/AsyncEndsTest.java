package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.AsyncReceiver;
import dev.ferry.async.AsyncSender;
import dev.ferry.async.EventLoops;
import dev.ferry.codec.Codecs;
import dev.ferry.handle.Access;
import dev.ferry.handle.Handles;
import dev.ferry.handle.Ownership;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One-sided asynchronous ends: what each may wrap, read-only and write-only ends (one-way pipes,
 * Handles' access modes, a duplex connection made write-only by a too-large message), and
 * messages over 2 GiB.
 */
@ExtendWith(LeakCheck.class)
class AsyncEndsTest {

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(60, TimeUnit.SECONDS);
  }

  private static Throwable failure(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void oneWayPipeEndsRunOnTheLoop() throws Exception {
    try (EventLoops loops = EventLoops.open(); Pipe.OneWay pipe = Pipe.oneWay()) {
      AsyncReceiver rx = AsyncReceiver.of(pipe.reader(), loops);
      AsyncSender tx = AsyncSender.of(pipe.writer(), loops);
      assertFalse(rx instanceof AsyncSender, "a read end has no way to send");
      assertFalse(tx instanceof AsyncReceiver, "a write end has no way to receive");
      assertTrue(rx.receiver() == pipe.reader() && tx.sender() == pipe.writer());
      CompletableFuture<String> got = rx.receiveAsync(Codecs.utf8());
      await(tx.sendAsync("hi from the writer", Codecs.utf8()));
      assertEquals("hi from the writer", await(got));
      assertEquals("AsyncReceiver[pipe reader]", rx.toString());
      assertEquals("AsyncSender[pipe writer]", tx.toString());
      tx.close();
      assertInstanceOf(EOFException.class, failure(rx.receiveAsync()));
    }
  }

  @Test
  void refusesToWrapAnEndForASideItLacks() throws Exception {
    try (EventLoops loops = EventLoops.open(); Pipe.Duplex via = Pipe.duplex();
        Pipe.OneWay pipe = Pipe.oneWay()) {
      // Handles hand out the ends typed as connections, with the access they were given.
      Handles.sendConnection(via.first(), pipe.writer(), Ownership.DUPLICATE);
      Handles.sendConnection(via.first(), pipe.reader(), Ownership.DUPLICATE);
      try (Connection writeOnly = Handles.receiveConnection(via.second(), Access.WRITE_ONLY);
          Connection readOnly = Handles.receiveConnection(via.second(), Access.READ_ONLY)) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> AsyncReceiver.of(writeOnly, loops));
        assertEquals("connection is write-only", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> AsyncSender.of(readOnly, loops));
        assertEquals("connection is read-only", e.getMessage());
        // Refused wraps leave the ends as they were: blocking calls still work.
        writeOnly.sendBytes(new byte[] {1});
        assertArrayEquals(new byte[] {1}, readOnly.receiveBytes());
      }
    }
  }

  @Test
  void accessModesHoldForAsyncConnections() throws Exception {
    try (EventLoops loops = EventLoops.open(); Pipe.Duplex via = Pipe.duplex();
        Pipe.OneWay pipe = Pipe.oneWay()) {
      Handles.sendConnection(via.first(), pipe.writer(), Ownership.DUPLICATE);
      Handles.sendConnection(via.first(), pipe.reader(), Ownership.DUPLICATE);
      AsyncConnection writeOnly = AsyncConnection.of(
          Handles.receiveConnection(via.second(), Access.WRITE_ONLY), loops);
      AsyncConnection readOnly = AsyncConnection.of(
          Handles.receiveConnection(via.second(), Access.READ_ONLY), loops);
      try {
        Throwable t = failure(writeOnly.receiveAsync());
        assertInstanceOf(IllegalStateException.class, t);
        assertEquals("connection is write-only", t.getMessage());
        t = failure(readOnly.sendAsync(new byte[] {1}));
        assertInstanceOf(IllegalStateException.class, t);
        assertEquals("connection is read-only", t.getMessage());
        // Neither refusal spoils the side that works.
        CompletableFuture<byte[]> got = readOnly.receiveAsync();
        await(writeOnly.sendAsync(new byte[] {2}));
        assertArrayEquals(new byte[] {2}, await(got));
        assertFalse(writeOnly.isClosed() || readOnly.isClosed());
      } finally {
        writeOnly.close();
        readOnly.close();
      }
    }
  }

  @Test
  void sendingOnlyLeavesBlockingReceivesAlone() throws Exception {
    try (EventLoops loops = EventLoops.open(); Pipe.Duplex pipe = Pipe.duplex()) {
      AsyncSender tx = AsyncSender.of(pipe.first(), loops);
      await(tx.sendAsync(new byte[] {1}));
      assertArrayEquals(new byte[] {1}, pipe.second().receiveBytes());
      pipe.second().sendBytes(new byte[] {2});
      assertTrue(pipe.first().poll(Duration.ofSeconds(10)));
      assertArrayEquals(new byte[] {2}, pipe.first().receiveBytes());
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> AsyncReceiver.of(pipe.first(), loops));
      assertEquals("connection sends asynchronously already", e.getMessage());
      e = assertThrows(IllegalStateException.class, () -> AsyncSender.of(pipe.first(), loops));
      assertEquals("connection sends asynchronously already", e.getMessage());
      // Receiving only leaves blocking sends alone, as AsyncConnection does.
      AsyncReceiver rx = AsyncReceiver.of(pipe.second(), loops);
      CompletableFuture<byte[]> got = rx.receiveAsync();
      pipe.first().sendBytes(new byte[] {3});
      assertArrayEquals(new byte[] {3}, await(got));
      pipe.second().sendBytes(new byte[] {4});
      assertArrayEquals(new byte[] {4}, pipe.first().receiveBytes());
      e = assertThrows(IllegalStateException.class, () -> AsyncSender.of(pipe.second(), loops));
      assertEquals("connection receives asynchronously already", e.getMessage());
    }
  }

  @Test
  void tooLargeMessageClosesAnAsyncReadEnd() throws Exception {
    ConnectionOptions small = ConnectionOptions.builder().maxMessageSize(10).build();
    try (EventLoops loops = EventLoops.open(); Pipe.OneWay pipe = Pipe.oneWay(small)) {
      AsyncReceiver rx = AsyncReceiver.of(pipe.reader(), loops);
      CompletableFuture<byte[]> first = rx.receiveAsync();
      CompletableFuture<byte[]> second = rx.receiveAsync();
      pipe.writer().sendBytes(new byte[11]);
      Throwable t = failure(first);
      assertInstanceOf(MessageTooLargeException.class, t);
      assertEquals("bad message length: 11 > limit 10", t.getMessage());
      assertInstanceOf(ConnectionClosedException.class, failure(second));
      assertTrue(rx.isClosed());
      assertTrue(pipe.reader().isClosed());
      assertInstanceOf(ConnectionClosedException.class, failure(rx.receiveAsync()));
    }
  }

  @Test
  void tooLargeMessageMakesAnAsyncDuplexConnectionWriteOnly() throws Exception {
    ConnectionOptions small = ConnectionOptions.builder().maxMessageSize(10).build();
    try (EventLoops loops = EventLoops.open(); Pipe.Duplex pipe = Pipe.duplex(small)) {
      AsyncConnection c = AsyncConnection.of(pipe.first(), loops);
      CompletableFuture<byte[]> first = c.receiveAsync();
      CompletableFuture<Long> second = c.receiveToAsync(Channels.newChannel(new ByteArrayOutputStream()));
      pipe.second().sendBytes(new byte[11]);
      assertInstanceOf(MessageTooLargeException.class, failure(first));
      Throwable t = failure(second);
      assertInstanceOf(IllegalStateException.class, t);
      assertEquals("connection is write-only", t.getMessage());
      assertEquals("connection is write-only", failure(c.receiveAsync()).getMessage());
      assertFalse(c.isClosed());
      assertFalse(pipe.first().isReadable());
      await(c.sendAsync(new byte[] {5}));
      assertArrayEquals(new byte[] {5}, pipe.second().receiveBytes());
    }
  }

  // -----------------------------------------------------------------------------------------------
  // Messages over 2 GiB

  /** A header for 3 GiB (PROTOCOL.md 1.1: -1, then the 64-bit length), and no payload. */
  private static final String LONG_HEADER_3_GIB = "ffffffff 00000000c0000000";

  @Test
  void arrayReceiveRefusesAMessageOverTwoGibibytesAndTheConnectionKeepsSending() throws Exception {
    ConnectionOptions unlimited = ConnectionOptions.builder().maxMessageSize(Long.MAX_VALUE).build();
    try (EventLoops loops = EventLoops.open(); RawPeer p = RawPeer.open(unlimited, true, true)) {
      AsyncConnection c = AsyncConnection.of(p.endpoint, loops);
      p.write(LONG_HEADER_3_GIB);
      Throwable t = failure(c.receiveAsync());
      assertInstanceOf(MessageTooLargeException.class, t);
      assertEquals("bad message length: 3221225472 > limit 2147483639", t.getMessage());
      assertEquals(3221225472L, ((MessageTooLargeException) t).length());
      // PROTOCOL.md 1.4: a duplex connection becomes write-only and keeps sending.
      assertEquals("connection is write-only", failure(c.receiveAsync()).getMessage());
      await(c.sendAsync(new byte[] {7}));
      assertEquals("0000000107", p.read(5));
    }
  }

  @Test
  void arrayReceiveRefusingAMessageOverTwoGibibytesClosesAReadEnd() throws Exception {
    ConnectionOptions unlimited = ConnectionOptions.builder().maxMessageSize(Long.MAX_VALUE).build();
    try (EventLoops loops = EventLoops.open(); RawPeer p = RawPeer.open(unlimited, true, false)) {
      AsyncReceiver rx = AsyncReceiver.of(p.endpoint, loops);
      p.write(LONG_HEADER_3_GIB);
      assertInstanceOf(MessageTooLargeException.class, failure(rx.receiveAsync()));
      assertTrue(rx.isClosed());
      assertInstanceOf(ConnectionClosedException.class, failure(rx.receiveAsync()));
    }
  }

  @Test
  void streamingReceiveAppliesTheConfiguredLimitBeforeReadingThePayload() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPeer p = RawPeer.open()) {
      AsyncConnection c = AsyncConnection.of(p.endpoint, loops);
      p.write(LONG_HEADER_3_GIB);
      Throwable t = failure(c.receiveToAsync(Channels.newChannel(new ByteArrayOutputStream())));
      assertInstanceOf(MessageTooLargeException.class, t);
      assertEquals("bad message length: 3221225472 > limit 1073741824", t.getMessage());
    }
  }

  @Test
  void refusesToStreamOverTwoGibibytesTowardPython37BeforeReadingTheSource() throws Exception {
    ConnectionOptions old = ConnectionOptions.builder().peerPython(PythonVersion.parse("3.7")).build();
    try (EventLoops loops = EventLoops.open(); RawPeer p = RawPeer.open(old, true, true)) {
      AsyncSender tx = AsyncSender.of(p.endpoint, loops);
      Pattern source = new Pattern(1L << 31);
      Throwable t = failure(tx.sendFromAsync(source, 1L << 31));
      assertInstanceOf(IllegalArgumentException.class, t);
      assertEquals("message of 2147483648 bytes is over 2147483647, the most python 3.7 can"
          + " receive (python 3.8+ reads longer ones)", t.getMessage());
      assertEquals(0, source.position);
      await(tx.sendAsync(new byte[] {1}));
      assertEquals("0000000101", p.read(5), "nothing of the refused message went out");
    }
  }

  @Test
  void streamsAMessageOverTwoGibibytesThroughAOneWayPipe() throws Exception {
    long size = (1L << 31) + 16;
    ConnectionOptions big = ConnectionOptions.builder().maxMessageSize(size).build();
    try (EventLoops loops = EventLoops.open(); Pipe.OneWay pipe = Pipe.oneWay(big)) {
      AsyncSender tx = AsyncSender.of(pipe.writer(), loops);
      AsyncReceiver rx = AsyncReceiver.of(pipe.reader(), loops);
      Pattern source = new Pattern(size);
      Check sink = new Check();
      CompletableFuture<Long> received = rx.receiveToAsync(sink);
      CompletableFuture<byte[]> next = rx.receiveAsync();
      CompletableFuture<Void> sent = tx.sendFromAsync(source, size);
      tx.sendAsync("after".getBytes(UTF_8));
      await(sent);
      assertEquals(size, await(received));
      assertEquals("after", new String(await(next), UTF_8));
      assertEquals(size, sink.position);
      assertEquals(source.crc.getValue(), sink.crc.getValue());
      assertEquals(-1, sink.firstMismatch, "offset of the first byte off the pattern");
      assertTrue(tx.queuedBytes() == 0);
    }
  }

  @Test
  void sourceWithNothingYetIsAskedAgainLater() throws Exception {
    try (EventLoops loops = EventLoops.open(); Pipe.OneWay pipe = Pipe.oneWay()) {
      AsyncSender tx = AsyncSender.of(pipe.writer(), loops);
      Pattern pattern = new Pattern(300_000);
      int[] calls = {0};
      ReadableByteChannel trickle = OpenChannel.reading(dst -> {
        if (calls[0]++ % 2 == 0) return 0; // a non-blocking source with nothing now
        ByteBuffer small = dst.slice().limit(Math.min(dst.remaining(), 1000));
        int n = pattern.read(small);
        if (n > 0) dst.position(dst.position() + n);
        return n;
      });
      CompletableFuture<Void> sent = tx.sendFromAsync(trickle, 300_000);
      CompletableFuture<Void> after = tx.sendAsync(new byte[] {1});
      byte[] got = pipe.reader().receiveBytes();
      assertEquals(300_000, got.length);
      for (int i = 0; i < got.length; i++) assertEquals((byte) (i % 251), got[i]);
      assertArrayEquals(new byte[] {1}, pipe.reader().receiveBytes());
      await(sent);
      await(after);
    }
  }

  /** Byte i of the pattern is i % 251; never held whole. */
  private static final class Pattern extends OpenChannel implements ReadableByteChannel {
    private final long size;
    final CRC32 crc = new CRC32();
    long position;

    Pattern(long size) {
      this.size = size;
    }

    @Override
    public int read(ByteBuffer dst) {
      if (position == size) return -1;
      int n = (int) Math.min(dst.remaining(), size - position);
      byte[] chunk = new byte[n];
      for (int i = 0; i < n; i++) chunk[i] = (byte) ((position + i) % 251);
      dst.put(chunk);
      crc.update(chunk);
      position += n;
      return n;
    }
  }

  /** Checks that what it is given is the pattern. */
  private static final class Check extends OpenChannel implements WritableByteChannel {
    final CRC32 crc = new CRC32();
    long position;
    long firstMismatch = -1;

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      byte[] chunk = new byte[n];
      src.get(chunk);
      crc.update(chunk);
      for (int i = 0; i < n && firstMismatch < 0; i++) {
        if (chunk[i] != (byte) ((position + i) % 251)) firstMismatch = position + i;
      }
      position += n;
      return n;
    }
  }
}
