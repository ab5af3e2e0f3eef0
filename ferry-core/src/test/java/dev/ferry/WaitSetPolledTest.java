package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The wait-set contract again, with every Unix socket and pipe polled by the set's background
 * thread from the first call on, and the paths only that thread takes: sockets it reports, switches
 * off and passes on, which the waiting call looks at alone and hands back when they are empty.
 */
class WaitSetPolledTest extends WaitSetTest {
  @Override
  <T> WaitSet<T> newSet() {
    return WaitSet.openPollingInBackground(1, 1);
  }

  /** The wait sets' threads alive now. */
  static Set<String> pollers() {
    Set<String> names = new TreeSet<>(LeakCheck.ferryThreads());
    names.removeIf(name -> !name.startsWith("ferry-wait-"));
    return names;
  }

  @Test
  void reportsTheOneMemberThatBecameReadyWhileTheOthersStayIdle() throws Exception {
    List<Pipe.Duplex> pipes = new ArrayList<>();
    try (WaitSet<Receiver> set = newSet()) {
      for (int i = 0; i < 50; i++) {
        Pipe.Duplex p = Pipe.duplex();
        pipes.add(p);
        set.add(p.first());
      }
      assertEquals(List.of(), set.ready(Duration.ZERO));
      assertEquals(1, pollers().size(), "one poller: " + pollers());
      for (int round = 0; round < 3; round++) {
        Pipe.Duplex ready = pipes.get(7 + round * 11);
        CompletableFuture<List<Receiver>> waiting = waitAsync(set);
        ready.second().sendBytes(new byte[] {(byte) round});
        assertEquals(List.of(ready.first()), waiting.get(10, TimeUnit.SECONDS));
        for (int i = 0; i < 3; i++) {
          assertEquals(List.of(ready.first()), set.ready(Duration.ZERO), "until consumed");
        }
        assertArrayEquals(new byte[] {(byte) round}, ready.first().receiveBytes());
        assertEquals(List.of(), set.ready(SHORT));
      }
    } finally {
      for (Pipe.Duplex p : pipes) p.close();
    }
  }

  @Test
  void watchesAgainAReportedMemberWhoseMessageAReceiveTookFirst() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      assertEquals(List.of(), set.ready(Duration.ZERO));
      for (int i = 0; i < 200; i++) {
        // The poller may report the socket before or after the receive takes the message; the
        // call then finds nothing there, which must read as "empty", never as the end.
        a.second().sendBytes(new byte[] {(byte) i});
        assertArrayEquals(new byte[] {(byte) i}, a.first().receiveBytes());
        assertEquals(List.of(), set.ready(Duration.ZERO), "round " + i);
      }
      a.second().sendBytes(new byte[] {1});
      assertEquals(List.of(a.first()), set.ready(LONG), "watched again");
      assertArrayEquals(new byte[] {1}, a.first().receiveBytes());
      assertEquals(List.of(), set.ready(SHORT));
    }
  }

  @Test
  void watchesAgainAMemberReportedThenConsumedAndReportsItsNextMessage() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); Pipe.Duplex b = Pipe.duplex();
        WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      set.add(b.first());
      for (int i = 0; i < 20; i++) {
        CompletableFuture<List<Receiver>> waiting = waitAsync(set);
        a.second().sendBytes(new byte[] {(byte) i});
        assertEquals(List.of(a.first()), waiting.get(10, TimeUnit.SECONDS), "round " + i);
        assertArrayEquals(new byte[] {(byte) i}, a.first().receiveBytes());
        assertEquals(List.of(), set.ready(Duration.ZERO), "empty again, round " + i);
      }
    }
  }

  @Test
  void aCallOnAnInterruptedThreadLeavesAReportedMemberOpenWithItsMessage() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      a.second().sendBytes(new byte[] {1});
      assertEquals(List.of(a.first()), set.ready(LONG), "reported by the poller, read ahead");
      assertArrayEquals(new byte[] {1}, a.first().receiveBytes());
      // Still switched off and suspect: the next call reads its socket, which holds this message.
      a.second().sendBytes(new byte[] {2});
      Thread.currentThread().interrupt();
      try {
        assertThrows(InterruptedIOException.class, () -> set.ready(LONG));
        assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag stays set");
      } finally {
        Thread.interrupted();
      }
      assertFalse(a.first().isClosed());
      assertEquals(List.of(a.first()), set.ready(LONG));
      assertArrayEquals(new byte[] {2}, a.first().receiveBytes());
    }
  }

  @Test
  void aPeerThatEndsItsStreamAfterAReportedMessageIsReadyAgain() throws Exception {
    try (Pipe.Duplex a = Pipe.duplex(); WaitSet<Receiver> set = newSet()) {
      set.add(a.first());
      a.second().sendBytes(new byte[] {1});
      assertEquals(List.of(a.first()), set.ready(LONG));
      assertArrayEquals(new byte[] {1}, a.first().receiveBytes());
      assertEquals(List.of(), set.ready(Duration.ZERO));
      a.second().close();
      assertEquals(List.of(a.first()), set.ready(LONG));
      assertEquals(List.of(a.first()), set.ready(Duration.ZERO));
      assertTrue(set.remove(a.first()));
    }
  }

  @Test
  void startsItsPollerFromTheSecondCallOnlyForLargeUnixGroups() throws Exception {
    List<Pipe.Duplex> pipes = new ArrayList<>();
    try (Transports.Pair tcp = Transports.TCP_V4.open(ConnectionOptions.defaults())) {
      for (int i = 0; i < WaitSet.BACKGROUND_MEMBERS; i++) pipes.add(Pipe.duplex());
      try (WaitSet<Receiver> small = WaitSet.open()) {
        small.add(tcp.right());
        for (int i = 1; i < WaitSet.BACKGROUND_MEMBERS; i++) small.add(pipes.get(i).first());
        for (int i = 0; i < 3; i++) assertEquals(List.of(), small.ready(Duration.ZERO));
        assertEquals(Set.of(), pollers(), "few Unix sockets: polled in the call");
      }
      List<Receiver> all = new ArrayList<>();
      for (Pipe.Duplex p : pipes) all.add(p.first());
      assertEquals(List.of(), Wait.ready(all, Duration.ZERO));
      try (WaitSet<Receiver> large = WaitSet.open()) {
        for (Receiver r : all) large.add(r);
        assertEquals(List.of(), large.ready(Duration.ZERO));
        assertEquals(Set.of(), pollers(), "a first call polls in the call");
        pipes.get(3).second().sendBytes(new byte[] {3});
        assertEquals(List.of(pipes.get(3).first()), large.ready(LONG));
        assertEquals(1, pollers().size(), "then a poller serves it");
        assertArrayEquals(new byte[] {3}, pipes.get(3).first().receiveBytes());
        assertEquals(List.of(), large.ready(SHORT));
      }
    } finally {
      for (Pipe.Duplex p : pipes) p.close();
    }
  }
}
