package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import dev.ferry.codec.Codecs;
import java.io.EOFException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The asynchronous API's promises, on every transport: one end async, the other async or blocking. */
@ExtendWith(LeakCheck.class)
class AsyncContractTest {
  private static final ConnectionOptions OPTIONS = ConnectionOptions.defaults();

  private static <T> T await(CompletableFuture<T> f) throws Exception {
    return f.get(20, TimeUnit.SECONDS);
  }

  private static Throwable failure(CompletableFuture<?> f) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void sendsAndReceivesBothWays(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection left = AsyncConnection.of(p.leftConnection(), loops);
      AsyncConnection right = AsyncConnection.of(p.rightConnection(), loops);
      CompletableFuture<byte[]> got = right.receiveAsync();
      await(left.sendAsync("hello".getBytes(UTF_8)));
      assertEquals("hello", new String(await(got), UTF_8));
      await(right.sendAsync("back", Codecs.utf8()));
      assertEquals("back", await(left.receiveAsync(Codecs.utf8())));
      // An echo chained on the loop, with no thread waiting.
      right.receiveAsync().thenCompose(right::sendAsync);
      await(left.sendAsync(new byte[0]));
      assertArrayEquals(new byte[0], await(left.receiveAsync()));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void keepsMessagesOfEverySizeIntactAndInOrder(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.rightConnection(), loops);
      Random random = new Random(7);
      int[] sizes = {0, 1, 3, 4, 5, 100, 65531, 65532, 65536, 65537, 200_000, 1 << 20, 3 << 20, 16 << 20};
      List<byte[]> sent = new ArrayList<>();
      List<CompletableFuture<byte[]>> received = new ArrayList<>();
      for (int size : sizes) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        sent.add(b);
        received.add(async.receiveAsync());
      }
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          for (byte[] b : sent) p.leftConnection().sendBytes(b);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      for (int i = 0; i < sizes.length; i++) assertArrayEquals(sent.get(i), await(received.get(i)));
      await(writer);
      // And the other way: async sends of every size, read by a blocking receiver.
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      for (byte[] b : sent) sends.add(async.sendAsync(b));
      for (byte[] b : sent) assertArrayEquals(b, p.leftConnection().receiveBytes());
      for (CompletableFuture<Void> f : sends) await(f);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void completesSendsInSendOrder(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.leftConnection(), loops);
      List<Integer> completed = new CopyOnWriteArrayList<>();
      List<CompletableFuture<Void>> futures = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        int n = i;
        futures.add(async.sendAsync(new byte[(i % 7) * 5000]).thenRun(() -> completed.add(n)));
      }
      for (int i = 0; i < 2000; i++) assertEquals((i % 7) * 5000, p.rightConnection().receiveBytes().length);
      for (CompletableFuture<Void> f : futures) await(f);
      for (int i = 0; i < 2000; i++) assertEquals(i, completed.get(i));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void keepsManySmallMessagesWholeAndInOrder(Transports transport) throws Exception {
    // Small queued frames leave together in one write; each must still arrive as itself.
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.leftConnection(), loops);
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        sends.add(async.sendAsync(java.nio.ByteBuffer.allocate(4 + i % 100).putInt(0, i)));
      }
      for (int i = 0; i < 10_000; i++) {
        byte[] m = p.rightConnection().receiveBytes();
        assertEquals(4 + i % 100, m.length);
        assertEquals(i, java.nio.ByteBuffer.wrap(m).getInt());
      }
      for (CompletableFuture<Void> f : sends) await(f);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void cancelledReceiveGivesItsMessageToTheNext(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.rightConnection(), loops);
      CompletableFuture<byte[]> cancelled = async.receiveAsync();
      CompletableFuture<byte[]> timedOut = async.receiveAsync().orTimeout(10, TimeUnit.MILLISECONDS);
      assertTrue(cancelled.cancel(false));
      assertInstanceOf(TimeoutException.class, failure(timedOut));
      p.leftConnection().sendBytes("first".getBytes(UTF_8));
      p.leftConnection().sendBytes("second".getBytes(UTF_8));
      assertEquals("first", new String(await(async.receiveAsync()), UTF_8));
      // Cancel while messages race in: whatever a cancelled receive took goes to the next one.
      // A receive completed before its cancel keeps its message: cancel then returns false.
      List<String> got = new ArrayList<>();
      for (int i = 0; i < 200; i++) p.leftConnection().sendBytes(("m" + i).getBytes(UTF_8));
      for (int i = 0; got.size() < 200; i++) {
        CompletableFuture<byte[]> f = async.receiveAsync();
        if (i % 3 != 0 || !f.cancel(false)) got.add(new String(await(f), UTF_8));
      }
      List<String> expected = new ArrayList<>(List.of("second"));
      for (int i = 0; i < 199; i++) expected.add("m" + i);
      assertArrayEquals("m199".getBytes(UTF_8), await(async.receiveAsync()));
      assertEquals(expected, got);
      assertThrows(CancellationException.class, cancelled::join);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void receiveTimesOutAndTheConnectionStaysUsable(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.rightConnection(), loops);
      Throwable t = failure(async.receiveAsync(Duration.ofMillis(50)));
      assertInstanceOf(SocketTimeoutException.class, t);
      assertEquals("receive timed out after 50 ms", t.getMessage());
      p.leftConnection().sendBytes(new byte[] {9});
      assertArrayEquals(new byte[] {9}, await(async.receiveAsync(Duration.ofSeconds(10))));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void closeFailsPendingFuturesWithConnectionClosed(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(1, 1024); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.rightConnection(), loops);
      CompletableFuture<byte[]> receive = async.receiveAsync();
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      for (int i = 0; i < 100; i++) sends.add(async.sendAsync(new byte[1 << 20])); // peer never reads
      async.close();
      assertTrue(async.isClosed());
      assertInstanceOf(ConnectionClosedException.class, failure(receive));
      assertInstanceOf(ConnectionClosedException.class, failure(sends.get(sends.size() - 1)));
      assertInstanceOf(ConnectionClosedException.class, failure(async.receiveAsync()));
      assertInstanceOf(ConnectionClosedException.class, failure(async.sendAsync(new byte[1])));
      assertEquals(0, async.queuedBytes());
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void peerEndOfStreamFailsPendingReceivesWithEof(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.rightConnection(), loops);
      CompletableFuture<byte[]> first = async.receiveAsync();
      CompletableFuture<byte[]> second = async.receiveAsync();
      CompletableFuture<byte[]> third = async.receiveAsync();
      p.leftConnection().sendBytes("last".getBytes(UTF_8));
      p.leftConnection().close();
      assertEquals("last", new String(await(first), UTF_8));
      assertInstanceOf(EOFException.class, failure(second));
      assertInstanceOf(EOFException.class, failure(third));
      assertInstanceOf(EOFException.class, failure(async.receiveAsync()));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void refusesBlockingReceivesOnceAsynchronous(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.rightConnection(), loops);
      IllegalStateException e = assertThrows(IllegalStateException.class, p.rightConnection()::receiveBytes);
      assertEquals("connection receives asynchronously", e.getMessage());
      assertThrows(IllegalStateException.class, () -> p.rightConnection().poll());
      e = assertThrows(IllegalStateException.class, () -> AsyncConnection.of(p.rightConnection(), loops));
      assertEquals("connection receives asynchronously already", e.getMessage());
      // Blocking sends on the same connection stay allowed.
      p.rightConnection().sendBytes(new byte[] {1});
      assertArrayEquals(new byte[] {1}, p.leftConnection().receiveBytes());
      assertFalse(async.isClosed());
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void refusesToWrapWhileABlockingReceiveWaits(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      CompletableFuture<byte[]> blocked = CompletableFuture.supplyAsync(() -> {
        try {
          return p.rightConnection().receiveBytes();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      // Waiting on a selector, or inside read(2) in blocking mode.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!Thread.getAllStackTraces().entrySet().stream().anyMatch(en -> Arrays
          .stream(en.getValue()).anyMatch(f -> f.getMethodName().equals("awaitReadable")
              || f.getMethodName().equals("readBlocking")))) {
        assertTrue(System.nanoTime() < deadline, "the receive never started waiting");
        Thread.onSpinWait();
      }
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> AsyncConnection.of(p.rightConnection(), loops));
      assertEquals("a blocking receive is in progress", e.getMessage());
      p.leftConnection().sendBytes(new byte[] {2});
      assertArrayEquals(new byte[] {2}, await(blocked));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void blockingAndAsyncSendsMixWithoutSplittingMessages(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.leftConnection(), loops);
      int count = 100;
      byte[] a = new byte[150_000];
      byte[] b = new byte[150_000];
      Arrays.fill(a, (byte) 'a');
      Arrays.fill(b, (byte) 'b');
      CompletableFuture<Void> blocking = CompletableFuture.runAsync(() -> {
        try {
          for (int i = 0; i < count; i++) p.leftConnection().sendBytes(a);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      for (int i = 0; i < count; i++) sends.add(async.sendAsync(b));
      int as = 0;
      int bs = 0;
      for (int i = 0; i < 2 * count; i++) {
        byte[] m = p.rightConnection().receiveBytes();
        assertEquals(150_000, m.length);
        byte first = m[0];
        for (byte x : m) if (x != first) throw new AssertionError("message " + i + " mixes bytes");
        if (first == 'a') as++; else bs++;
      }
      assertEquals(count, as);
      assertEquals(count, bs);
      await(blocking);
      for (CompletableFuture<Void> f : sends) await(f);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void boundsTheSendQueueAndCompletesOnceThereIsRoom(Transports transport) throws Exception {
    long limit = 256 * 1024;
    try (EventLoops loops = EventLoops.open(1, limit); Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.leftConnection(), loops);
      int size = 64 * 1024;
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      long most = 0;
      for (int i = 0; i < 400; i++) { // 25 MiB: far more than the socket buffers hold
        byte[] m = new byte[size];
        m[0] = (byte) i;
        sends.add(async.sendAsync(m));
        most = Math.max(most, async.queuedBytes());
      }
      assertTrue(most <= limit + size + 4, "queued " + most + " > " + limit);
      assertFalse(sends.get(sends.size() - 1).isDone(), "the peer reads nothing yet");
      for (int i = 0; i < 400; i++) {
        byte[] m = p.rightConnection().receiveBytes();
        assertEquals((byte) i, m[0]);
        assertTrue(async.queuedBytes() <= limit + size + 4);
      }
      for (CompletableFuture<Void> f : sends) await(f);
      assertEquals(0, async.queuedBytes());
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void slowReaderDoesNotHoldUpOthersOnTheSameLoop(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(1); Transports.Pair stuck = transport.open(OPTIONS);
        Transports.Pair lively = transport.open(OPTIONS)) {
      AsyncConnection slow = AsyncConnection.of(stuck.leftConnection(), loops);
      AsyncConnection fast = AsyncConnection.of(lively.leftConnection(), loops);
      AsyncConnection echo = AsyncConnection.of(lively.rightConnection(), loops);
      List<CompletableFuture<Void>> blocked = new ArrayList<>();
      for (int i = 0; i < 64; i++) blocked.add(slow.sendAsync(new byte[1 << 20])); // never read
      for (int i = 0; i < 100; i++) {
        echo.receiveAsync().thenCompose(echo::sendAsync);
        CompletableFuture<byte[]> reply = fast.receiveAsync();
        fast.sendAsync(new byte[] {(byte) i});
        assertArrayEquals(new byte[] {(byte) i}, await(reply));
      }
      assertFalse(blocked.get(63).isDone());
      slow.close();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void closingTheLoopsFailsPendingFuturesAndEndsTheThreads(Transports transport) throws Exception {
    EventLoops loops = EventLoops.open(2);
    try (Transports.Pair p = transport.open(OPTIONS)) {
      AsyncConnection async = AsyncConnection.of(p.rightConnection(), loops);
      CompletableFuture<byte[]> pending = async.receiveAsync();
      loops.close();
      assertTrue(loops.isClosed());
      assertInstanceOf(ConnectionClosedException.class, failure(pending));
      assertTrue(async.isClosed());
      assertTrue(LeakCheck.ferryThreads().stream().noneMatch(t -> t.startsWith("ferry-loop")),
          LeakCheck.ferryThreads().toString());
      assertThrows(IllegalStateException.class, () -> AsyncConnection.of(p.leftConnection(), loops));
    }
  }
}
