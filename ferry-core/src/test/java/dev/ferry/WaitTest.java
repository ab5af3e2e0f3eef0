package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheck.class)
class WaitTest {

  @Test
  void anEmptyListSleepsTheWholeTimeoutAsCPythonDoes() throws Exception {
    long start = System.nanoTime();
    assertEquals(List.of(), Wait.ready(List.of(), Duration.ofMillis(300)));
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(elapsedMillis >= 300, "returned after " + elapsedMillis + " ms");
  }

  @Test
  void anEmptyListWithoutATimeoutWaitsUntilTheThreadIsInterrupted() throws Exception {
    Thread[] waiter = new Thread[1];
    CountDownLatch started = new CountDownLatch(1);
    CompletableFuture<Boolean> interruptedAndFlagged = TestThreads.supply(() -> {
      waiter[0] = Thread.currentThread();
      started.countDown();
      try {
        Wait.ready(List.of());
        return false;
      } catch (InterruptedIOException e) {
        return Thread.currentThread().isInterrupted();
      } catch (IOException e) {
        return false;
      }
    });
    started.await();
    assertThrows(TimeoutException.class, () -> interruptedAndFlagged.get(200, TimeUnit.MILLISECONDS));
    waiter[0].interrupt();
    assertTrue(interruptedAndFlagged.get(10, TimeUnit.SECONDS),
        "throws InterruptedIOException and keeps the interrupt flag");
  }

  @Test
  void returnsNothingWhenNothingIsReadyInTime() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Pipe.Duplex b = Pipe.duplex()) {
      assertEquals(List.of(), Wait.ready(List.of(a.first(), b.first()), Duration.ofMillis(100)));
      assertEquals(List.of(), Wait.ready(List.of(a.first()), Duration.ofMillis(-1)));
    }
  }

  @Test
  void returnsTheReadyObjectsInTheOrderGiven() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Pipe.Duplex b = Pipe.duplex(); Pipe.Duplex c = Pipe.duplex()) {
      c.second().sendBytes(new byte[1]);
      a.second().sendBytes(new byte[1]);
      List<Receiver> all = List.of(a.first(), b.first(), c.first());
      assertEquals(List.of(a.first(), c.first()), Wait.ready(all, Duration.ofSeconds(5)));
    }
  }

  @Test
  void seesMessagesAlreadyBufferedByAnEarlierReceive() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex()) {
      a.second().sendBytes(new byte[] {1});
      a.second().sendBytes(new byte[] {2});
      assertTrue(a.first().poll(Duration.ofSeconds(5)));
      a.first().receiveBytes(); // reads both frames into the buffer; the socket is now empty
      assertEquals(List.of(a.first()), Wait.ready(List.of(a.first()), Duration.ofSeconds(1)));
    }
  }

  @Test
  void reportsEndOfStreamAsReady() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex()) {
      a.second().close();
      assertEquals(List.of(a.first()), Wait.ready(List.of(a.first()), Duration.ofSeconds(5)));
    }
  }

  @Test
  void waitsOnEveryTransportAtOnce() throws Exception {
    List<Transports.Pair> pairs = new ArrayList<>();
    try {
      for (Transports t : Transports.values()) pairs.add(t.open(ConnectionOptions.defaults()));
      List<Receiver> receivers = new ArrayList<>();
      for (Transports.Pair p : pairs) receivers.add(p.right());
      assertEquals(List.of(), Wait.ready(receivers, Duration.ofMillis(50)));
      for (int i = 0; i < pairs.size(); i++) {
        Transports.Pair p = pairs.get(i);
        CompletableFuture<List<Receiver>> waiting =
            CompletableFuture.supplyAsync(() -> waitFor(receivers));
        p.left().sendBytes(new byte[] {(byte) i});
        assertEquals(List.of(p.right()), waiting.get(10, TimeUnit.SECONDS),
            "transport " + Transports.values()[i]);
        p.right().receiveBytes();
      }
    } finally {
      for (Transports.Pair p : pairs) p.close();
    }
    assertTrue(LeakCheck.ferryThreads().isEmpty(), "wait threads are gone");
  }

  private static List<Receiver> waitFor(List<Receiver> receivers) {
    try {
      return Wait.ready(receivers, Duration.ofSeconds(10));
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  @Test
  void reportsListenerWithWaitingClient() throws Exception {
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0))) {
      assertEquals(List.of(), Wait.ready(List.of(listener), Duration.ofMillis(50)));
      try (Connection client = Client.connect(listener.address())) {
        assertEquals(List.of(listener), Wait.ready(List.of(listener), Duration.ofSeconds(5)));
        listener.accept().close();
      }
    }
  }

  @Test
  void reportsExitedProcessBesideConnections() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process sleeper = new ProcessBuilder(java, "-version").redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try (Pipe.Duplex a = Pipe.duplex()) {
      List<Object> ready = Wait.ready(List.of(a.first(), sleeper), Duration.ofSeconds(30));
      assertEquals(List.of(sleeper), ready);
      assertEquals(List.of(sleeper.toHandle()),
          Wait.ready(List.of(sleeper.toHandle()), Duration.ZERO));
    } finally {
      sleeper.destroyForcibly().waitFor();
    }
  }

  @Test
  void refusesDuplicatesClosedConnectionsAndStrangers() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex()) {
      IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
          () -> Wait.ready(List.of(a.first(), a.first()), Duration.ZERO));
      assertTrue(twice.getMessage().startsWith("object listed twice: "));
      IllegalArgumentException stranger = assertThrows(IllegalArgumentException.class,
          () -> Wait.ready(List.<Object>of("hello"), Duration.ZERO));
      assertEquals("cannot wait on java.lang.String: expected a Receiver, Listener, Process or"
          + " ProcessHandle", stranger.getMessage());
      a.second().close();
      ConnectionClosedException closed = assertThrows(ConnectionClosedException.class,
          () -> Wait.ready(List.of(a.second()), Duration.ZERO));
      assertEquals("connection is closed", closed.getMessage());
    }
  }
}
