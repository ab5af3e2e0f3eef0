package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.codec.Codecs;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One suite, run against every transport: what a connection promises. The tests that need both
 * directions leave out the one-way pipe.
 */
@ExtendWith(LeakCheck.class)
class ConnectionContractTest {
  private static final ConnectionOptions OPTIONS = ConnectionOptions.defaults();

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void sendsAndReceivesBytesBothWays(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      p.left().sendBytes("hello world".getBytes(UTF_8));
      assertArrayEquals("hello world".getBytes(UTF_8), p.right().receiveBytes());
      p.rightConnection().sendBytes("back".getBytes(UTF_8));
      assertArrayEquals("back".getBytes(UTF_8), p.leftConnection().receiveBytes());
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void deliversEmptyMessagesAsMessages(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      String[] sequence = {"hello", "", "a", "b", "", "bye", "", "lop"};
      for (String s : sequence) p.left().sendBytes(s.getBytes(UTF_8));
      for (String s : sequence) {
        assertTrue(p.right().poll(Duration.ofSeconds(5)));
        assertEquals(s, new String(p.right().receiveBytes(), UTF_8));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void keepsMessagesOfEverySizeIntactAndInOrder(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      Random random = new Random(42);
      int[] sizes = {0, 1, 3, 4, 5, 100, 16383, 16384, 16385, 65531, 65532, 65536, 65537, 200_000,
          1 << 20, 16 << 20};
      List<byte[]> sent = new ArrayList<>();
      for (int size : sizes) {
        byte[] b = new byte[size];
        random.nextBytes(b);
        sent.add(b);
      }
      Future<?> writer = CompletableFuture.runAsync(() -> {
        try {
          for (byte[] b : sent) p.left().sendBytes(b);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      for (byte[] expected : sent) assertArrayEquals(expected, p.right().receiveBytes());
      writer.get(30, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void sendsTheRangeOfAnArray(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      byte[] msg = "abcdefghijklmnopqrstuvwxyz".getBytes(UTF_8);
      p.left().sendBytes(msg, 5, msg.length - 5);
      p.left().sendBytes(msg, 7, 8);
      p.left().sendBytes(msg, 26, 0);
      assertEquals("fghijklmnopqrstuvwxyz", new String(p.right().receiveBytes(), UTF_8));
      assertEquals("hijklmno", new String(p.right().receiveBytes(), UTF_8));
      assertEquals(0, p.right().receiveBytes().length);
      assertThrows(IndexOutOfBoundsException.class, () -> p.left().sendBytes(msg, 22, 5));
      assertThrows(IndexOutOfBoundsException.class, () -> p.left().sendBytes(msg, -1, 2));
      assertThrows(IndexOutOfBoundsException.class, () -> p.left().sendBytes(msg, 4, -1));
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void receivesIntoCallersBufferAndCarriesMessageWhenTooShort(Transports transport)
      throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      p.left().sendBytes(new byte[] {0, 1, 2, 3});
      byte[] target = new byte[10];
      assertEquals(4, p.right().receiveBytesInto(target, 3));
      assertArrayEquals(new byte[] {0, 0, 0, 0, 1, 2, 3, 0, 0, 0}, target);

      byte[] big = new byte[110];
      big[109] = 7;
      p.left().sendBytes(big);
      p.left().sendBytes("next".getBytes(UTF_8));
      BufferTooShortException e = assertThrows(BufferTooShortException.class,
          () -> p.right().receiveBytesInto(ByteBuffer.allocate(40)));
      assertArrayEquals(big, e.message());
      assertEquals("buffer too short: message length 110 > space 40", e.getMessage());
      assertEquals("next", new String(p.right().receiveBytes(), UTF_8));
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void tooLongMessageMakesDuplexEndWriteOnly(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      p.left().sendBytes(new byte[10]);
      MessageTooLargeException e =
          assertThrows(MessageTooLargeException.class, () -> p.right().receiveBytes(5));
      assertEquals("bad message length: 10 > limit 5", e.getMessage());
      assertFalse(p.right().isReadable());
      assertTrue(p.rightConnection().isWritable());
      IllegalStateException wo =
          assertThrows(IllegalStateException.class, () -> p.right().receiveBytes());
      assertEquals("connection is write-only", wo.getMessage());
      assertThrows(IllegalStateException.class, () -> p.right().poll());
      p.rightConnection().sendBytes("still works".getBytes(UTF_8));
      assertEquals("still works", new String(p.leftConnection().receiveBytes(), UTF_8));
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void acceptsMessageOfExactlyMaxLengthAndRefusesNegative(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      p.left().sendBytes(new byte[10]);
      assertEquals(10, p.right().receiveBytes(10).length);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> p.right().receiveBytes(-1));
      assertEquals("negative maxlength: -1", e.getMessage());
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void reportsEndOfStreamAtBoundaryAsEof(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      p.left().sendBytes("last".getBytes(UTF_8));
      p.left().close();
      assertEquals("last", new String(p.right().receiveBytes(), UTF_8));
      assertTrue(p.right().poll(Duration.ofSeconds(5)), "end of stream is readable");
      assertThrows(EOFException.class, () -> p.right().receiveBytes());
      assertThrows(EOFException.class, () -> p.right().receive(Codecs.utf8()));
      assertTrue(p.right().isReadable());
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void seesEndOfStreamAfterWaitingForEarlierMessages(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      CompletableFuture<Throwable> reader = CompletableFuture.supplyAsync(() -> {
        try {
          while (true) p.right().receiveBytes();
        } catch (Throwable t) {
          return t;
        }
      });
      for (int i = 0; i < 3; i++) {
        p.left().sendBytes(new byte[] {(byte) i});
        Thread.sleep(30); // the reader goes back to waiting between messages
      }
      p.left().close();
      Throwable t = reader.get(5, TimeUnit.SECONDS);
      assertTrue(t instanceof EOFException, "got " + t);
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void pollsWithoutConsuming(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      assertFalse(p.right().poll());
      assertFalse(p.right().poll(Duration.ofMillis(-1)));
      assertFalse(p.right().poll(Duration.ofMillis(50)));
      p.left().sendBytes(new byte[0]);
      assertTrue(p.right().poll(Duration.ofSeconds(5)));
      assertTrue(p.right().poll(), "still true until read");
      assertEquals(0, p.right().receiveBytes().length);
      assertFalse(p.right().poll());
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void closeFromAnotherThreadWakesBlockedReceiver(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      CountDownLatch started = new CountDownLatch(1);
      CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
        started.countDown();
        try {
          p.right().receiveBytes();
          return null;
        } catch (Throwable t) {
          return t;
        }
      });
      started.await();
      // Give the receiver a chance to block; the assertion holds either way.
      Thread.sleep(50);
      p.right().close();
      Throwable t = outcome.get(5, TimeUnit.SECONDS);
      assertTrue(t instanceof ConnectionClosedException, "got " + t);
      assertTrue(p.right().isClosed());
      ConnectionClosedException again =
          assertThrows(ConnectionClosedException.class, () -> p.right().receiveBytes());
      assertEquals("connection is closed", again.getMessage());
      assertThrows(ConnectionClosedException.class,
          () -> p.rightConnection().sendBytes(new byte[1]));
      p.right().close(); // idempotent
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void closeFromAnotherThreadWakesBlockedSender(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      // Nobody reads on the right, so a 64 MiB send fills the socket buffers and blocks.
      CompletableFuture<Throwable> outcome = CompletableFuture.supplyAsync(() -> {
        try {
          p.left().sendBytes(new byte[64 << 20]);
          return null;
        } catch (Throwable t) {
          return t;
        }
      });
      Thread.sleep(100); // let it block; the assertion holds either way
      p.left().close();
      Throwable t = outcome.get(5, TimeUnit.SECONDS);
      assertTrue(t instanceof ConnectionClosedException, "got " + t);
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void concurrentSendersNeverInterleaveMessages(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      int threads = 4;
      int perThread = 200;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int id = t;
          futures.add(pool.submit(() -> {
            for (int i = 0; i < perThread; i++) {
              byte[] b = new byte[(i % 7) * 10_000 + 1];
              java.util.Arrays.fill(b, (byte) id);
              b[0] = (byte) id;
              p.left().sendBytes(b);
            }
            return null;
          }));
        }
        int[] counts = new int[threads];
        for (int i = 0; i < threads * perThread; i++) {
          byte[] b = p.right().receiveBytes();
          byte id = b[0];
          for (byte x : b) assertEquals(id, x, "message mixes bytes of two senders");
          counts[id]++;
        }
        for (Future<?> f : futures) f.get(30, TimeUnit.SECONDS);
        for (int c : counts) assertEquals(perThread, c);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void concurrentReceiversEachGetWholeMessages(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      int total = 400;
      ExecutorService pool = Executors.newFixedThreadPool(3);
      try {
        List<Future<List<String>>> readers = new ArrayList<>();
        for (int r = 0; r < 3; r++) {
          readers.add(pool.submit(() -> {
            List<String> got = new ArrayList<>();
            while (true) {
              String s = new String(p.right().receiveBytes(), UTF_8);
              if (s.equals("stop")) return got;
              got.add(s);
            }
          }));
        }
        for (int i = 0; i < total; i++) p.left().sendBytes(("message-" + i).getBytes(UTF_8));
        for (int r = 0; r < 3; r++) p.left().sendBytes("stop".getBytes(UTF_8));
        Set<String> all = new HashSet<>();
        for (Future<List<String>> f : readers) all.addAll(f.get(30, TimeUnit.SECONDS));
        assertEquals(total, all.size());
        for (int i = 0; i < total; i++) assertTrue(all.contains("message-" + i));
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void streamsMessagesThroughChannels(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      byte[] payload = new byte[300_000];
      new Random(7).nextBytes(payload);
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          p.left().sendFrom(Channels.newChannel(new java.io.ByteArrayInputStream(payload)),
              payload.length);
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      ByteArrayOutputStream sink = new ByteArrayOutputStream();
      assertEquals(payload.length, p.right().receiveTo(Channels.newChannel(sink)));
      assertArrayEquals(payload, sink.toByteArray());
      writer.get(10, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void sendsAndReceivesObjectsThroughCodecs(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(OPTIONS)) {
      p.left().send("hallå världen", Codecs.utf8());
      assertEquals("hallå världen", p.right().receive(Codecs.utf8()));
      String big = "x".repeat(200_000);
      p.left().send(big, Codecs.utf8());
      assertEquals(big, p.right().receive(Codecs.utf8()));
    }
  }
}
