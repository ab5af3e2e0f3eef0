package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The wait set's contract; {@link WaitSetPolledTest} runs it again with background polling. */
@ExtendWith(LeakCheck.class)
class WaitSetTest {
  static final Duration LONG = Duration.ofSeconds(10);
  static final Duration SHORT = Duration.ofMillis(50);

  /** A set as the tests under this class want it: here, as {@link WaitSet#open()} makes it. */
  <T> WaitSet<T> newSet() {
    return WaitSet.open();
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void reportsReadyMembersCallAfterCallUntilConsumed(Transports transport) throws Exception {
    try (Transports.Pair a = transport.open(ConnectionOptions.defaults());
        Transports.Pair b = transport.open(ConnectionOptions.defaults());
        WaitSet<Receiver> set = newSet()) {
      set.add(a.right());
      set.add(b.right());
      assertEquals(List.of(), set.ready(SHORT));
      b.left().sendBytes(new byte[] {2});
      a.left().sendBytes(new byte[] {1});
      waitUntilBothArrived(set, 2);
      assertEquals(List.of(a.right(), b.right()), set.ready(LONG), "in the order added");
      assertEquals(List.of(a.right(), b.right()), set.ready(Duration.ZERO), "still ready");
      assertArrayEquals(new byte[] {1}, a.right().receiveBytes());
      assertEquals(List.of(b.right()), set.ready(LONG));
      assertArrayEquals(new byte[] {2}, b.right().receiveBytes());
      assertEquals(List.of(), set.ready(SHORT));
      b.left().sendBytes(new byte[] {3});
      assertEquals(List.of(b.right()), set.ready(LONG));
    }
  }

  static void waitUntilBothArrived(WaitSet<?> set, int n) throws IOException {
    long end = System.nanoTime() + LONG.toNanos();
    while (set.ready(LONG).size() < n && System.nanoTime() < end) Thread.onSpinWait();
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void reportsMessagesAnEarlierReceiveReadAhead(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(ConnectionOptions.defaults());
        WaitSet<Receiver> set = newSet()) {
      set.add(p.right());
      p.left().sendBytes(new byte[] {1});
      p.left().sendBytes(new byte[] {2});
      // The first receive reads ahead whatever has arrived: often both frames, leaving the
      // socket with nothing to report while the second waits in the buffer.
      assertArrayEquals(new byte[] {1}, p.right().receiveBytes());
      assertEquals(List.of(p.right()), set.ready(LONG));
      assertArrayEquals(new byte[] {2}, p.right().receiveBytes());
      assertEquals(List.of(), set.ready(SHORT));
    }
  }

  @Test
  void reportsInputAPollReadAheadOnAMemberItNeverReported() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      a.second().sendBytes(new byte[] {7});
      assertTrue(a.first().poll(LONG)); // reads the frame into the buffer: the socket is empty
      assertEquals(List.of(a.first()), set.ready(LONG));
      assertEquals(List.of(a.first()), set.ready(Duration.ZERO));
      assertArrayEquals(new byte[] {7}, a.first().receiveBytes());
      assertEquals(List.of(), set.ready(SHORT));
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void reportsAPeerThatSentAndHungUpUntilItIsRemoved(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(ConnectionOptions.defaults());
        WaitSet<Receiver> set = newSet()) {
      set.add(p.right());
      p.left().sendBytes(new byte[] {1});
      p.left().close();
      for (int i = 0; i < 3; i++) assertEquals(List.of(p.right()), set.ready(LONG), "call " + i);
      assertArrayEquals(new byte[] {1}, p.right().receiveBytes());
      for (int i = 0; i < 3; i++) assertEquals(List.of(p.right()), set.ready(LONG), "after " + i);
      assertThrows(EOFException.class, () -> p.right().receiveBytes());
      assertEquals(List.of(p.right()), set.ready(LONG));
      assertTrue(set.remove(p.right()));
      assertFalse(set.remove(p.right()));
      assertEquals(List.of(), set.ready(SHORT));
    }
  }

  @Test
  void reportsAMemberClosedOnThisSideAndWakesAWaitingCall() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Transports.Pair tcp = Transports.TCP_V4.open(
        ConnectionOptions.defaults()); WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      set.add(tcp.right());
      CompletableFuture<List<Receiver>> waiting = waitAsync(set);
      tcp.right().close();
      assertEquals(List.of(tcp.right()), waiting.get(10, TimeUnit.SECONDS));
      assertThrows(ConnectionClosedException.class, () -> tcp.right().receiveBytes());
      a.first().close();
      assertEquals(List.of(a.first(), tcp.right()), set.ready(LONG));
    }
  }

  @Test
  void wakesAWaitingCallForAMemberAddedMeanwhile() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Transports.Pair tcp = Transports.TCP_V4.open(
        ConnectionOptions.defaults()); WaitSet<Receiver> set = newSet()) {
      CompletableFuture<List<Receiver>> waiting = waitAsync(set); // an empty set waits too
      a.second().sendBytes(new byte[] {1});
      set.add(a.first());
      assertEquals(List.of(a.first()), waiting.get(10, TimeUnit.SECONDS));
      a.first().receiveBytes();
      waiting = waitAsync(set);
      tcp.leftConnection().sendBytes(new byte[] {1});
      set.add(tcp.right());
      assertEquals(List.of(tcp.right()), waiting.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void anEmptySetSleepsTheWholeTimeout() throws Exception {
    try (WaitSet<Receiver> set = newSet()) {
      long start = System.nanoTime();
      assertEquals(List.of(), set.ready(Duration.ofMillis(300)));
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(elapsedMillis >= 300, "returned after " + elapsedMillis + " ms");
    }
  }

  @Test
  void anEmptySetAsleepWakesForAMemberAddedFromAnotherThread() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); WaitSet<Receiver> set = newSet()) {
      Thread[] waiter = new Thread[1];
      CountDownLatch started = new CountDownLatch(1);
      CompletableFuture<List<Receiver>> waiting = TestThreads.supply(() -> {
        waiter[0] = Thread.currentThread();
        started.countDown();
        try {
          return set.ready(LONG);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
      started.await();
      while (waiter[0].getState() != Thread.State.TIMED_WAITING && !waiting.isDone()) {
        Thread.yield(); // until it sleeps in the call
      }
      a.second().sendBytes(new byte[] {1});
      set.add(a.first());
      assertEquals(List.of(a.first()), waiting.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void waitsOnEveryTransportListenersAndProcessesAtOnce() throws Exception {
    List<Transports.Pair> pairs = new ArrayList<>();
    String java = ProcessHandle.current().info().command().orElse("java");
    Process sleeper = new ProcessBuilder(java, "-version").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0));
        WaitSet<Object> set = newSet()) {
      for (Transports t : Transports.values()) pairs.add(t.open(ConnectionOptions.defaults()));
      for (Transports.Pair p : pairs) set.add(p.right());
      set.add(listener);
      sleeper.waitFor(30, TimeUnit.SECONDS);
      set.add(sleeper);
      assertEquals(List.of(sleeper), set.ready(LONG));
      set.remove(sleeper);
      for (int round = 0; round < 3; round++) {
        for (int i = 0; i < pairs.size(); i++) {
          Transports.Pair p = pairs.get(i);
          CompletableFuture<List<Object>> waiting = waitAsync(set);
          p.left().sendBytes(new byte[] {(byte) i});
          assertEquals(List.of(p.right()), waiting.get(10, TimeUnit.SECONDS),
              "transport " + Transports.values()[i]);
          p.right().receiveBytes();
        }
        CompletableFuture<List<Object>> waiting = waitAsync(set);
        try (Connection client = Client.connect(listener.address())) {
          assertEquals(List.of(listener), waiting.get(10, TimeUnit.SECONDS));
          listener.accept(LONG).close();
        }
        assertEquals(List.of(), set.ready(SHORT));
      }
    } finally {
      for (Transports.Pair p : pairs) p.close();
      sleeper.destroyForcibly().waitFor();
    }
    assertTrue(LeakCheck.ferryThreads().isEmpty(), "helper threads end with the set");
  }

  @Test
  void reportsAProcessWhenItExits() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process child = new ProcessBuilder(java, "-version").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try (WaitSet<Object> set = newSet()) {
      set.add(child.toHandle());
      assertEquals(List.of(child.toHandle()), set.ready(Duration.ofSeconds(30)));
    } finally {
      child.destroyForcibly().waitFor();
    }
  }

  @Test
  void forgetsRemovedMembersAndTakesThemBack() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Transports.Pair tcp = Transports.TCP_V4.open(
        ConnectionOptions.defaults()); WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      set.add(tcp.right());
      a.second().sendBytes(new byte[] {1});
      tcp.leftConnection().sendBytes(new byte[] {1});
      waitUntilBothArrived(set, 2);
      assertTrue(set.remove(a.first()));
      assertTrue(set.remove(tcp.right()));
      assertEquals(0, set.size());
      assertEquals(List.of(), set.ready(SHORT));
      set.add(tcp.right()); // its old key may still wait to be flushed out of the selector
      set.add(a.first());
      assertEquals(List.of(tcp.right(), a.first()), set.ready(LONG));
    }
  }

  @Test
  void refusesDuplicatesStrangersAndMembersItCannotWaitOn() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Pipe.OneWay oneWay = Pipe.oneWay();
        EventLoops loops = EventLoops.open(); WaitSet<Object> set = newSet()) {
      set.add(a.first());
      IllegalArgumentException twice =
          assertThrows(IllegalArgumentException.class, () -> set.add(a.first()));
      assertTrue(twice.getMessage().startsWith("already in the set: "), twice.getMessage());
      IllegalArgumentException stranger =
          assertThrows(IllegalArgumentException.class, () -> set.add("hello"));
      assertEquals("cannot wait on java.lang.String: expected a Receiver, Listener, Process or"
          + " ProcessHandle", stranger.getMessage());
      IllegalStateException writeOnly =
          assertThrows(IllegalStateException.class, () -> set.add(oneWay.writer()));
      assertEquals("connection is write-only", writeOnly.getMessage());
      AsyncConnection wrapped = AsyncConnection.of(a.second(), loops);
      IllegalStateException async =
          assertThrows(IllegalStateException.class, () -> set.add(a.second()));
      assertEquals("connection receives asynchronously", async.getMessage());
      wrapped.close();
      ConnectionClosedException closed =
          assertThrows(ConnectionClosedException.class, () -> set.add(a.second()));
      assertEquals("connection is closed", closed.getMessage());
      assertEquals(1, set.size());
    }
  }

  @Test
  void closingWakesTheWaitingCallAndLaterCallsRefuse() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Transports.Pair tcp = Transports.TCP_V4.open(
        ConnectionOptions.defaults())) {
      WaitSet<Receiver> set = newSet();
      set.add(a.first());
      set.add(tcp.right()); // mixed: a poller thread selects one of the kinds
      CompletableFuture<List<Receiver>> waiting = waitAsync(set);
      // The poller starts inside the call (the listener's accept thread is there all along).
      while (WaitSetPolledTest.pollers().isEmpty() && !waiting.isDone()) Thread.onSpinWait();
      set.close();
      assertEquals(List.of(), waiting.get(10, TimeUnit.SECONDS));
      IllegalStateException closed = assertThrows(IllegalStateException.class, set::ready);
      assertEquals("wait set is closed", closed.getMessage());
      assertThrows(IllegalStateException.class, () -> set.add(a.second()));
      set.close(); // idempotent
      assertFalse(a.first().isClosed(), "members stay open");
    }
  }

  @Test
  void anInterruptedWaitThrowsAndKeepsTheFlag() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      Thread.currentThread().interrupt();
      try {
        assertThrows(InterruptedIOException.class, set::ready);
        assertTrue(Thread.currentThread().isInterrupted());
      } finally {
        Thread.interrupted();
      }
      a.second().sendBytes(new byte[] {1});
      assertEquals(List.of(a.first()), set.ready(LONG));
    }
  }

  @Test
  void findsTheOneReadyAmongHundredsRegistered() throws Exception {
    int n = FdLimit.fit(300, 2);
    List<Pipe.Duplex> pipes = new ArrayList<>();
    try (WaitSet<Receiver> set = newSet()) {
      for (int i = 0; i < n; i++) {
        Pipe.Duplex p = Pipe.duplex();
        pipes.add(p);
        set.add(p.first());
      }
      for (int i = 0; i < n; i += 37) {
        pipes.get(i).second().sendBytes(new byte[] {(byte) i});
        assertEquals(List.of(pipes.get(i).first()), set.ready(LONG));
        pipes.get(i).first().receiveBytes();
      }
      assertEquals(List.of(), set.ready(Duration.ZERO));
    } finally {
      for (Pipe.Duplex p : pipes) p.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void reportsAPeerThatHungUpWithoutSending(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(ConnectionOptions.defaults());
        Transports.Pair idle = transport.open(ConnectionOptions.defaults());
        WaitSet<Receiver> set = newSet()) {
      set.add(idle.right());
      set.add(p.right());
      assertEquals(List.of(), set.ready(SHORT));
      CompletableFuture<List<Receiver>> waiting = waitAsync(set);
      p.left().close();
      assertEquals(List.of(p.right()), waiting.get(10, TimeUnit.SECONDS));
      assertEquals(List.of(p.right()), set.ready(Duration.ZERO), "until removed");
      assertThrows(EOFException.class, () -> p.right().receiveBytes());
      assertTrue(set.remove(p.right()));
      assertEquals(List.of(), set.ready(SHORT));
    }
  }

  @Test
  void forgetsAReadyMemberRemovedBeforeItIsConsumedAndReportsItOnceBack() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Pipe.Duplex b = Pipe.duplex();
        WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      set.add(b.first());
      a.second().sendBytes(new byte[] {1});
      assertEquals(List.of(a.first()), set.ready(LONG));
      assertTrue(set.remove(a.first()));
      assertEquals(List.of(), set.ready(SHORT));
      b.second().sendBytes(new byte[] {2});
      assertEquals(List.of(b.first()), set.ready(LONG));
      set.add(a.first());
      assertEquals(List.of(b.first(), a.first()), set.ready(LONG), "its message still waits");
      assertArrayEquals(new byte[] {1}, a.first().receiveBytes());
      assertArrayEquals(new byte[] {2}, b.first().receiveBytes());
      assertEquals(List.of(), set.ready(SHORT));
      set.remove(a.first());
      // Out of the set, a receive blocks in the kernel again and still gets what comes.
      a.second().sendBytes(new byte[] {3});
      assertArrayEquals(new byte[] {3}, a.first().receiveBytes());
    }
  }

  @Test
  void closesWithMembersReadyAndUnconsumed() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Transports.Pair tcp = Transports.TCP_V4.open(
        ConnectionOptions.defaults())) {
      WaitSet<Receiver> set = newSet();
      set.add(a.first());
      set.add(tcp.right());
      a.second().sendBytes(new byte[] {1});
      tcp.leftConnection().sendBytes(new byte[] {2});
      waitUntilBothArrived(set, 2);
      set.close();
      assertArrayEquals(new byte[] {1}, a.first().receiveBytes());
      assertArrayEquals(new byte[] {2}, tcp.right().receiveBytes());
    }
  }

  static <T> CompletableFuture<List<T>> waitAsync(WaitSet<T> set) {
    return TestThreads.supply(() -> {
      try {
        return set.ready(LONG);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
