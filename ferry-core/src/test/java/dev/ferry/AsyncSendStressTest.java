package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import dev.ferry.codec.Codecs;
import dev.ferry.internal.async.SendQueue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every path of an async send at once (written whole, coalesced, waiting for room, head copied
 * then written from the caller's buffer, codec-encoded) with cancels at random moments and a
 * reader that takes its time: every message not withdrawn arrives whole and in order, none that
 * was withdrawn arrives, futures complete in call order, and the queue's counters return to 0.
 * (Written by a review of this code.)
 */
@ExtendWith(LeakCheck.class)
class AsyncSendStressTest {
  private static final int[] SIZES =
      {4, 100, 4000, 8187, 8188, 9000, 40_000, 65_536, 70_000, 300_000};

  private static byte[] message(int index, int size) {
    byte[] m = new byte[size];
    Arrays.fill(m, (byte) (index * 31));
    ByteBuffer.wrap(m).putInt(index);
    return m;
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "TCP_V4", "TCP_TLS"})
  void everyMessageNotWithdrawnArrivesWholeInOrder(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(1, 16 * 1024);
        Transports.Pair p = transport.open(ConnectionOptions.defaults())) {
      AsyncConnection a = AsyncConnection.of(p.leftConnection(), loops);
      int count = 3000;
      Random random = new Random(11);
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      List<Integer> completed = new CopyOnWriteArrayList<>();
      List<String> problems = new CopyOnWriteArrayList<>();
      int[] sizes = new int[count];
      // 1: cancel() returned true (withdrawn, must not arrive); 2: returned false (goes out).
      AtomicIntegerArray cancels = new AtomicIntegerArray(count);
      BitSet arrived = new BitSet(count);
      CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
        int last = -1;
        try {
          for (int received = 1; ; received++) {
            byte[] m = p.right().receiveBytes();
            if (m.length == 1) return; // the end marker
            int index = ByteBuffer.wrap(m).getInt();
            if (index <= last) problems.add("message " + index + " after " + last);
            if (!Arrays.equals(m, message(index, sizes[index]))) {
              problems.add("message " + index + " corrupt (length " + m.length + ")");
            }
            arrived.set(index);
            last = index;
            if (received % 200 == 0) Thread.sleep(2); // a slow reader: the queue fills
          }
        } catch (Exception e) {
          problems.add("reader: " + e);
        }
      });
      for (int i = 0; i < count; i++) {
        int size = SIZES[random.nextInt(SIZES.length)];
        sizes[i] = size;
        byte[] m = message(i, size);
        CompletableFuture<Void> f = switch (random.nextInt(4)) {
          case 0 -> a.sendAsync(m);
          case 1 -> a.sendAsync(ByteBuffer.wrap(m));
          case 2 -> a.sendAsync(ByteBuffer.allocateDirect(size).put(m).flip());
          default -> a.sendAsync(m, Codecs.bytes());
        };
        int n = i;
        f.whenComplete((v, e) -> completed.add(n));
        sends.add(f);
        int dice = random.nextInt(20);
        if (dice == 0) {
          cancels.set(n, f.cancel(false) ? 1 : 2);
        } else if (dice == 1) { // later: perhaps started by then, when it must go out whole
          CompletableFuture.delayedExecutor(random.nextInt(3000), TimeUnit.MICROSECONDS)
              .execute(() -> cancels.set(n, f.cancel(false) ? 1 : 2));
        }
      }
      // Not get() first: a thread woken in get() runs callbacks itself and scrambles the order.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (completed.size() < count && System.nanoTime() < deadline) Thread.sleep(1);
      assertEquals(count, completed.size(), "futures completed");
      a.sendAsync(new byte[] {1}).get(60, TimeUnit.SECONDS);
      reader.get(60, TimeUnit.SECONDS);
      assertTrue(problems.isEmpty(), problems.toString());
      for (int i = 0; i < count; i++) {
        boolean withdrawn = cancels.get(i) == 1;
        assertEquals(!withdrawn, arrived.get(i), "message " + i + (withdrawn ? " was withdrawn"
            : cancels.get(i) == 2 ? " could not be withdrawn" : "") + ": arrived?");
        if (!withdrawn) assertEquals(null, sends.get(i).get(1, TimeUnit.SECONDS));
      }
      assertEquals(0, a.queuedBytes(), "queuedBytes after all sends");
      assertEquals(0, SendQueue.deferredSends(a), "deferred after all sends");
      // Sends not withdrawn completed in call order (a cancel completes on the cancelling thread).
      List<Integer> order = new ArrayList<>();
      for (int n : completed) if (cancels.get(n) != 1) order.add(n);
      List<Integer> sorted = new ArrayList<>(order);
      Collections.sort(sorted);
      assertEquals(sorted, order, "completion order");
      a.close();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "TCP_V4", "TCP_TLS"})
  void closeWithSendsPendingFailsThemAndZeroesTheCounters(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(1, 16 * 1024);
        Transports.Pair p = transport.open(ConnectionOptions.defaults())) {
      AsyncConnection a = AsyncConnection.of(p.leftConnection(), loops);
      List<CompletableFuture<Void>> sends = new ArrayList<>();
      Random random = new Random(5);
      for (int i = 0; i < 2000; i++) {
        int size = SIZES[random.nextInt(SIZES.length)];
        sends.add(i % 2 == 0 ? a.sendAsync(message(i, size))
            : a.sendAsync(message(i, size), Codecs.bytes()));
      }
      Thread.sleep(300);
      a.close();
      for (CompletableFuture<Void> f : sends) {
        try {
          f.get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          assertTrue(e.getCause() instanceof ConnectionClosedException, e.toString());
        }
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (a.queuedBytes() != 0 && System.nanoTime() < until) Thread.sleep(1);
      assertEquals(0, a.queuedBytes(), "queuedBytes after close");
      assertEquals(0, SendQueue.deferredSends(a), "deferred after close");
    }
  }
}
