package dev.ferry;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncRawReader;
import dev.ferry.async.AsyncRawWriter;
import dev.ferry.async.EventLoops;
import dev.ferry.async.LineTooLongException;
import dev.ferry.handle.Handles;
import dev.ferry.handle.Ownership;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Raw pipes on the event loops: asyncio's StreamReader and StreamWriter, in Java. */
@ExtendWith(LeakCheck.class)
class AsyncRawPipeTest {
  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(30, TimeUnit.SECONDS);
  }

  private static Throwable failure(CompletableFuture<?> f) {
    return assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS)).getCause();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(US_ASCII);
  }

  @Test
  void readsLinesExactCountsAndWhateverIsThere() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      CompletableFuture<byte[]> line = rx.readLine(100);
      CompletableFuture<byte[]> four = rx.readExactly(4);
      CompletableFuture<byte[]> some = rx.readSome(100);
      pipe.writer().write(ByteBuffer.wrap(ascii("hi from child process\nabcdefg")));
      assertEquals("hi from child process\n", new String(await(line), US_ASCII));
      assertEquals("abcd", new String(await(four), US_ASCII));
      assertEquals("efg", new String(await(some), US_ASCII));
    }
  }

  @Test
  void readExactlyWaitsForBytesThatArriveOneAtATime() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      CompletableFuture<byte[]> five = rx.readExactly(5);
      for (byte b = 1; b <= 5; b++) {
        assertFalse(five.isDone());
        pipe.writer().write(ByteBuffer.wrap(new byte[] {b}));
      }
      assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, await(five));
    }
  }

  @Test
  void endOfStreamGivesTheRestThenEmptyReads() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      pipe.writer().write(ByteBuffer.wrap(ascii("no newline")));
      pipe.writer().close();
      assertEquals("no newline", new String(await(rx.readLine(100)), US_ASCII));
      assertEquals(0, await(rx.readLine(100)).length);
      assertEquals(0, await(rx.readSome(10)).length);
    }
  }

  @Test
  void readExactlyFailsWhenTheStreamEndsShort() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      pipe.writer().write(ByteBuffer.wrap(new byte[3]));
      pipe.writer().close();
      Throwable e = failure(rx.readExactly(10));
      assertInstanceOf(EOFException.class, e);
      assertEquals("stream ended after 3 of 10 bytes", e.getMessage());
    }
  }

  @Test
  void lineOverTheLimitFailsAndLeavesItsBytesUnread() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      pipe.writer().write(ByteBuffer.wrap(ascii("0123456789\n")));
      Throwable e = failure(rx.readLine(8));
      assertInstanceOf(LineTooLongException.class, e);
      assertEquals("line longer than limit 8 bytes", e.getMessage());
      assertEquals("0123456789\n", new String(await(rx.readLine(11)), US_ASCII));
    }
  }

  @Test
  void cancelledReadLeavesItsBytesToTheNextRead() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      CompletableFuture<byte[]> timedOut = rx.readLine(100).orTimeout(10, TimeUnit.MILLISECONDS);
      assertInstanceOf(TimeoutException.class, failure(timedOut));
      pipe.writer().write(ByteBuffer.wrap(ascii("kept\n")));
      assertEquals("kept\n", new String(await(rx.readLine(100)), US_ASCII));
    }
  }

  @Test
  void closeFromAnotherThreadFailsPendingReadsAndReleasesTheEnd() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open()) {
      AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops);
      CompletableFuture<byte[]> pending = rx.readSome(10);
      CompletableFuture.runAsync(rx::close).get(30, TimeUnit.SECONDS);
      assertTrue(rx.isClosed());
      Throwable e = failure(pending);
      assertInstanceOf(ConnectionClosedException.class, e);
      assertEquals("raw pipe read end is closed", e.getMessage());
      assertInstanceOf(ConnectionClosedException.class, failure(rx.readSome(1)));
      // The writer learns that nobody reads any more.
      assertThrows(IOException.class, () -> {
        for (int i = 0; i < 1000; i++) pipe.writer().write(ByteBuffer.allocate(4096));
      });
    }
  }

  @Test
  void wrappedEndRefusesBlockingReadsAndASecondWrap() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> pipe.reader().read(ByteBuffer.allocate(1)));
      assertEquals("raw pipe read end reads asynchronously", e.getMessage());
      IllegalStateException again = assertThrows(IllegalStateException.class,
          () -> AsyncRawReader.of(pipe.reader(), loops));
      assertEquals("raw pipe read end reads asynchronously already", again.getMessage());
      assertTrue(pipe.reader().isOpen());
    }
  }

  @Test
  void closingTheLoopsFailsPendingReadsAndWritesAndClosesTheEnds() throws Exception {
    // Two pipes: nothing written reaches the pending read, and nothing reads what is written.
    try (RawPipe in = RawPipe.open(); RawPipe out = RawPipe.open()) {
      EventLoops loops = EventLoops.open();
      AsyncRawReader rx = AsyncRawReader.of(in.reader(), loops);
      AsyncRawWriter tx = AsyncRawWriter.of(out.writer(), loops);
      CompletableFuture<byte[]> read = rx.readExactly(100);
      CompletableFuture<Void> write = tx.write(new byte[16 << 20]);
      loops.close();
      assertInstanceOf(ConnectionClosedException.class, failure(read));
      assertInstanceOf(ConnectionClosedException.class, failure(write));
      assertFalse(in.reader().isOpen());
      assertFalse(out.writer().isOpen());
    }
  }

  @Test
  void endDrivenByALoopCannotBePassed() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        Pipe.Duplex link = Pipe.duplex();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> Handles.sendRawEnd(link.first(), pipe.reader(), Ownership.MOVE));
      assertEquals("cannot pass raw pipe read end: an event loop drives it", e.getMessage());
      assertFalse(rx.isClosed());
    }
  }

  @Test
  void rejectsBadSizesWithTheValue() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      assertEquals("max < 1: 0",
          assertThrows(IllegalArgumentException.class, () -> rx.readSome(0)).getMessage());
      assertEquals("n < 0: -1",
          assertThrows(IllegalArgumentException.class, () -> rx.readExactly(-1)).getMessage());
      assertEquals("limit < 1: 0",
          assertThrows(IllegalArgumentException.class, () -> rx.readLine(0)).getMessage());
    }
  }

  @Test
  void manyLinesUnderBackpressureArriveInOrder() throws Exception {
    int lines = 20_000;
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawWriter tx = AsyncRawWriter.of(pipe.writer(), loops);
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      // 20,000 lines of 100 bytes: ten times what the kernel buffers, so writes wait for reads.
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      for (int i = 0; i < lines; i++) writes.add(tx.write(line(i)));
      // Nobody reads yet: the kernel holds a few hundred KiB, the rest waits in the queue.
      assertTrue(tx.queuedBytes() > lines * 100 / 2, "queued: " + tx.queuedBytes());
      for (int i = 0; i < lines; i++) {
        assertArrayEquals(line(i), await(rx.readLine(200)), "line " + i);
      }
      await(tx.drain());
      assertEquals(0, tx.queuedBytes());
      for (CompletableFuture<Void> w : writes) {
        assertTrue(w.isDone() && !w.isCompletedExceptionally());
      }
      tx.close();
      assertEquals(0, await(rx.readSome(1)).length);
    }
  }

  @Test
  void writesFailWithBrokenPipeOnceTheReaderIsGone() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawWriter tx = AsyncRawWriter.of(pipe.writer(), loops)) {
      pipe.reader().close();
      CompletableFuture<Void> last = null;
      for (int i = 0; i < 1000; i++) last = tx.write(new byte[4096]);
      assertEquals("broken pipe: the read end is closed", failure(last).getMessage());
      assertTrue(tx.isClosed());
    }
  }

  @Test
  void closeFromAnotherThreadFailsWaitingWrites() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open()) {
      AsyncRawWriter tx = AsyncRawWriter.of(pipe.writer(), loops);
      CompletableFuture<Void> big = tx.write(new byte[16 << 20]); // more than the kernel takes
      CompletableFuture<Void> after = tx.write(new byte[1]);
      CompletableFuture.runAsync(tx::close).get(30, TimeUnit.SECONDS);
      assertInstanceOf(ConnectionClosedException.class, failure(big));
      Throwable e = failure(after);
      assertEquals("raw pipe write end is closed", e.getMessage());
      assertFalse(pipe.writer().isOpen());
    }
  }

  @Test
  void cancelledWriteThatHasNotStartedIsWithdrawn() throws Exception {
    try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
        AsyncRawWriter tx = AsyncRawWriter.of(pipe.writer(), loops);
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops)) {
      CompletableFuture<Void> big = tx.write(new byte[4 << 20]);
      CompletableFuture<Void> withdrawn = tx.write(ascii("never\n"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (tx.queuedBytes() == (4 << 20) + 6) { // until big's first bytes have left
        assertTrue(System.nanoTime() < deadline, "the first write never started");
        Thread.onSpinWait();
      }
      assertFalse(big.cancel(false), "a started write goes out whole");
      assertTrue(withdrawn.cancel(false));
      CompletableFuture<Void> marker = tx.write(ascii("marker\n"));
      assertEquals(4 << 20, await(rx.readExactly(4 << 20)).length);
      await(marker);
      assertEquals("marker\n", new String(await(rx.readLine(100)), US_ASCII));
    }
  }

  private static byte[] line(int i) {
    byte[] b = new byte[100];
    Arrays.fill(b, (byte) ('a' + i % 26));
    byte[] n = Integer.toString(i).getBytes(US_ASCII);
    System.arraycopy(n, 0, b, 0, n.length);
    b[99] = '\n';
    return b;
  }
}
