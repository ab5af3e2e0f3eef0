package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import dev.ferry.internal.connection.FramedConnection;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A frame is whole, or the end is closed (DESIGN.md decision 10): every way a send or a receive
 * can stop inside a frame (an interrupt, a failing source or sink, the peer's end of stream, a
 * header refused) leaves either a usable end whose stream is in step, or a closed one; never an
 * end that looks usable and reads or writes out of step, and never one that is neither readable,
 * writable nor closed.
 */
@ExtendWith(LeakCheck.class)
class WholeFramesTest {
  private static final Duration LONG = Duration.ofSeconds(10);

  @Test
  void keepsReadEndReadableAfterCutFrame() throws Exception {
    try (RawPeer p = RawPeer.open(ConnectionOptions.defaults(), true, false)) {
      p.write("00000005 6869");
      p.closeRaw();
      assertThrows(FramingException.class, p.endpoint::receiveBytes);
      assertTrue(p.endpoint.isReadable(), "a read end stays a read end");
      assertFalse(p.endpoint.isClosed());
      assertTrue(p.endpoint.poll(), "the end of the stream is readable");
      assertThrows(EOFException.class, p.endpoint::receiveBytes);
    }
  }

  @Test
  void closesReadEndOnMalformedHeader() throws Exception {
    try (RawPeer p = RawPeer.open(ConnectionOptions.defaults(), true, false)) {
      p.write("80000000 6869");
      assertThrows(FramingException.class, p.endpoint::receiveBytes);
      assertTrue(p.endpoint.isClosed(), "neither readable nor writable: closed");
      assertThrows(ConnectionClosedException.class, p.endpoint::receiveBytes);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "TCP_V4", "TCP_TLS"})
  void closesConnectionWhenInterruptedInsideASend(Transports transport) throws Exception {
    try (Transports.Pair pair = transport.open(ConnectionOptions.defaults())) {
      Connection sender = pair.leftConnection();
      FutureTask<Void> send = new FutureTask<>(() -> {
        sender.sendBytes(new byte[16 << 20]); // far more than the socket buffers hold
        return null;
      });
      Thread thread = new Thread(send, "interrupted-sender");
      thread.start();
      assertTrue(pair.rightConnection().poll(LONG), "the first bytes arrive: the send has begun");
      thread.interrupt();
      ExecutionException e = assertThrows(ExecutionException.class, () -> send.get(10, TimeUnit.SECONDS));
      assertInstanceOf(InterruptedIOException.class, e.getCause());
      assertTrue(sender.isClosed(), "a later frame would land inside the cut one");
      assertThrows(FramingException.class, pair.right()::receiveBytes);
    }
  }

  @Test
  void closesConnectionWhenInterruptedInsideAReceive() throws Exception {
    try (Transports.Pair pair = Transports.TCP_V4.open(ConnectionOptions.defaults())) {
      CountDownLatch rest = new CountDownLatch(1);
      FutureTask<Void> send = new FutureTask<>(() -> {
        // The first 64 KiB leave, then the source stalls: the receiver is inside the message.
        pair.left().sendFrom(stallingSource(64 * 1024, rest), 1 << 20);
        return null;
      });
      new Thread(send, "stalling-sender").start();
      FramedConnection receiver = (FramedConnection) pair.right();
      FutureTask<byte[]> receive = new FutureTask<>(receiver::receiveBytes);
      Thread thread = new Thread(receive, "interrupted-receiver");
      thread.start();
      while (receiver.readCount() == 0) Thread.sleep(1); // it has read the header, at least
      thread.interrupt();
      ExecutionException e = assertThrows(ExecutionException.class, () -> receive.get(10, TimeUnit.SECONDS));
      assertInstanceOf(InterruptedIOException.class, e.getCause());
      assertTrue(receiver.isClosed(), "the next receive would read payload as a header");
      rest.countDown();
      assertThrows(ExecutionException.class, () -> send.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void closesConnectionWhenTheSourceFailsAfterPartOfTheMessageLeft() throws Exception {
    try (Transports.Pair pair = Transports.SOCKET_PAIR.open(ConnectionOptions.defaults())) {
      IOException failure = new IOException("source broke");
      IOException e = assertThrows(IOException.class,
          () -> pair.left().sendFrom(failingSource(200_000, failure), 1 << 20));
      assertSame(failure, e);
      assertTrue(pair.left().isClosed(), "the peer would read the next frame as this one's rest");
      assertThrows(FramingException.class, pair.right()::receiveBytes);
    }
  }

  @Test
  void keepsConnectionWhenTheSourceFailsBeforeAnyByteLeft() throws Exception {
    try (Transports.Pair pair = Transports.SOCKET_PAIR.open(ConnectionOptions.defaults())) {
      IOException failure = new IOException("source broke");
      assertThrows(IOException.class, () -> pair.left().sendFrom(failingSource(0, failure), 100));
      assertTrue(pair.left().isWritable());
      pair.left().sendBytes("next".getBytes(UTF_8));
      assertEquals("next", new String(pair.right().receiveBytes(), UTF_8));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "TCP_V4"})
  void skipsTheRestOfAMessageWhoseSinkFailed(Transports transport) throws Exception {
    try (Transports.Pair pair = transport.open(ConnectionOptions.defaults())) {
      byte[] big = new byte[300_000];
      big[0] = 0x41; // a payload byte read as a header would be a length of over 1 GiB
      FutureTask<Void> send = new FutureTask<>(() -> {
        pair.left().sendBytes(big);
        pair.left().sendBytes("next".getBytes(UTF_8));
        return null;
      });
      new Thread(send, "sender").start();
      IOException failure = new IOException("sink broke");
      WritableByteChannel sink = new WritableByteChannel() {
        @Override
        public int write(ByteBuffer src) throws IOException {
          throw failure;
        }

        @Override
        public boolean isOpen() {
          return true;
        }

        @Override
        public void close() {}
      };
      assertSame(failure, assertThrows(IOException.class, () -> pair.right().receiveTo(sink)));
      assertTrue(pair.right().isReadable());
      assertArrayEquals("next".getBytes(UTF_8), pair.right().receiveBytes());
      send.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void keepsAMemberWhoseMessageAWaitSetFindsOnAnInterruptedThread() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex();
        WaitSet<Receiver> set = WaitSet.openPollingInBackground(1, 1)) {
      set.add(pipe.first());
      assertEquals(List.of(), set.ready(Duration.ZERO)); // the background poller watches it now
      pipe.second().sendBytes("kept".getBytes(UTF_8));
      // Time for the poller to report the socket, so that the interrupted call reads it; a call
      // that comes first only throws, and the test then proves nothing but cannot fail wrongly.
      Thread.sleep(200);
      Thread.currentThread().interrupt();
      try {
        set.ready(LONG);
      } catch (InterruptedIOException expected) {
        // Also right: the interrupt is reported, and the member left as it was.
      } finally {
        Thread.interrupted();
      }
      assertFalse(pipe.first().isClosed(), "junixsocket's read closes a socket on an interrupt");
      assertEquals("kept", new String(pipe.first().receiveBytes(), UTF_8));
    }
  }

  @Test
  void keepsAnAsyncConnectionOpenWhenACallbackInterruptsTheLoopThread() throws Exception {
    try (EventLoops loops = EventLoops.open(1); Pipe.Duplex pipe = Pipe.duplex();
        AsyncConnection async = AsyncConnection.of(pipe.first(), loops)) {
      CompletableFuture<byte[]> first = async.receiveAsync().thenApply(bytes -> {
        Thread.currentThread().interrupt(); // a user's callback, run on the loop thread
        return bytes;
      });
      pipe.second().sendBytes("one".getBytes(UTF_8));
      pipe.second().sendBytes("two".getBytes(UTF_8));
      assertEquals("one", new String(first.get(10, TimeUnit.SECONDS), UTF_8));
      assertEquals("two", new String(async.receiveAsync().get(10, TimeUnit.SECONDS), UTF_8));
      // A receive made before its message arrives completes on the loop thread, so this
      // interrupts the loop (a stage added to a completed future would run on this thread).
      CompletableFuture<Void> interrupting = async.receiveAsync()
          .thenAccept(bytes -> Thread.currentThread().interrupt());
      pipe.second().sendBytes("go".getBytes(UTF_8));
      interrupting.get(10, TimeUnit.SECONDS);
      async.sendAsync("three".getBytes(UTF_8)).get(10, TimeUnit.SECONDS);
      async.sendAsync("four".getBytes(UTF_8)).get(10, TimeUnit.SECONDS);
      assertEquals("three", new String(pipe.second().receiveBytes(), UTF_8));
      assertEquals("four", new String(pipe.second().receiveBytes(), UTF_8));
      assertFalse(pipe.first().isClosed());
    }
  }

  /** Gives {@code count} zero bytes, then waits for {@code release}, then ends. */
  private static ReadableByteChannel stallingSource(int count, CountDownLatch release) {
    return new TestSource(count, null, release);
  }

  /** Gives {@code count} zero bytes, then throws {@code failure}. */
  private static ReadableByteChannel failingSource(int count, IOException failure) {
    return new TestSource(count, failure, null);
  }

  private static final class TestSource implements ReadableByteChannel {
    private int left;
    private final IOException failure;
    private final CountDownLatch release;

    TestSource(int count, IOException failure, CountDownLatch release) {
      this.left = count;
      this.failure = failure;
      this.release = release;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      if (left == 0) {
        if (failure != null) throw failure;
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return -1;
      }
      int n = Math.min(left, dst.remaining());
      dst.position(dst.position() + n);
      left -= n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
