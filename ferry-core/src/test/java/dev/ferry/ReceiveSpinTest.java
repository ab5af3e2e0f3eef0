package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ConnectionOptions#receiveSpin()}: a receive that polls before it sleeps must keep every
 * promise of one that sleeps at once, on every transport.
 */
@ExtendWith(LeakCheck.class)
class ReceiveSpinTest {
  private static ConnectionOptions spinning(Duration spin) {
    return ConnectionOptions.builder().receiveSpin(spin).build();
  }

  private static CompletableFuture<byte[]> receiveInBackground(Receiver receiver) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return receiver.receiveBytes();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void takesMessagesThatComeWhileItSpinsAndAfter(Transports transport) throws Exception {
    // 300 ms of spin: the first message comes during it; after a 1 ms spin the second comes
    // long after the receive went to sleep.
    try (Transports.Pair p = transport.open(spinning(Duration.ofMillis(300)))) {
      CompletableFuture<byte[]> first = receiveInBackground(p.right());
      Thread.sleep(20);
      p.left().sendBytes("during".getBytes(UTF_8));
      assertEquals("during", new String(first.get(20, TimeUnit.SECONDS), UTF_8));
      for (int i = 0; i < 1000; i++) { // back to back: each receive finds its message at once
        p.left().sendBytes(new byte[] {(byte) i, 1, 2});
        assertArrayEquals(new byte[] {(byte) i, 1, 2}, p.right().receiveBytes());
      }
    }
    try (Transports.Pair p = transport.open(spinning(Duration.ofMillis(1)))) {
      CompletableFuture<byte[]> late = receiveInBackground(p.right());
      Thread.sleep(200);
      p.left().sendBytes(new byte[70_000]);
      assertEquals(70_000, late.get(20, TimeUnit.SECONDS).length);
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, mode = EnumSource.Mode.EXCLUDE, names = "ONE_WAY_PIPE")
  void echoesBothWaysWithBothEndsSpinning(Transports transport) throws Exception {
    try (Transports.Pair p = transport.open(spinning(Duration.ofMillis(2)))) {
      Connection a = p.leftConnection();
      Connection b = p.rightConnection();
      CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
        try {
          for (int i = 0; i < 2000; i++) b.sendBytes(b.receiveBytes());
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      for (int i = 0; i < 2000; i++) {
        byte[] m = ("ping " + i).getBytes(UTF_8);
        a.sendBytes(m);
        assertArrayEquals(m, a.receiveBytes());
      }
      echo.get(20, TimeUnit.SECONDS);
    }
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void seesTheEndOfTheStreamWhileSpinning(Transports transport) throws Exception {
    assertSpinningReceiveFails(transport, p -> p.left().close(), EOFException.class);
  }

  @ParameterizedTest
  @EnumSource(Transports.class)
  void closeStopsASpinningReceive(Transports transport) throws Exception {
    assertSpinningReceiveFails(transport, p -> p.right().close(),
        ConnectionClosedException.class);
  }

  private interface Action {
    void run(Transports.Pair p) throws IOException;
  }

  /** A receive spinning for up to a second fails with {@code expected} once {@code end} ran. */
  private static void assertSpinningReceiveFails(Transports transport, Action end,
      Class<? extends IOException> expected) throws Exception {
    try (Transports.Pair p = transport.open(spinning(Duration.ofSeconds(1)))) {
      CompletableFuture<byte[]> pending = receiveInBackground(p.right());
      Thread.sleep(20);
      end.run(p);
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> pending.get(20, TimeUnit.SECONDS));
      assertInstanceOf(expected, e.getCause().getCause(), e.toString());
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "TCP_V4", "TCP_TLS"})
  void anInterruptEndsASpinningReceiveAsItEndsASleepingOne(Transports transport)
      throws Exception {
    // junixsocket's non-blocking read closes the channel on an interrupt: the connection must
    // know it is closed; TCP must not spin on to the end of the spin.
    for (Duration spin : new Duration[] {Duration.ZERO, Duration.ofSeconds(1)}) {
      try (Transports.Pair p = transport.open(spinning(spin))) {
        java.util.concurrent.atomic.AtomicReference<Throwable> failure =
            new java.util.concurrent.atomic.AtomicReference<>();
        Thread receiver = new Thread(() -> {
          try {
            p.right().receiveBytes();
          } catch (IOException | RuntimeException e) {
            failure.set(e);
          }
        }, "spinning-receiver");
        receiver.start();
        Thread.sleep(100);
        receiver.interrupt();
        receiver.join(500); // well inside the 1 s spin
        assertFalse(receiver.isAlive(), "spin " + spin + ": still receiving");
        assertInstanceOf(java.io.InterruptedIOException.class, failure.get(), "spin " + spin);
        if (transport == Transports.SOCKET_PAIR) {
          // The channel closed itself: the connection says so, and released the rest.
          assertTrue(p.right().isClosed(), "spin " + spin + ": closed after the interrupt");
        }
      }
    }
  }

  @Test
  void handshakeWithAKeySucceedsWhileBothSidesSpin() throws Exception {
    // The handshake's receives have deadlines: the spin is cut to them and must not break them.
    ConnectionOptions options = ConnectionOptions.builder().authKey(AuthKey.of(new byte[] {7}))
        .receiveSpin(Duration.ofMillis(5)).build();
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0), options);
        Connection client = Client.connect(listener.address(), options);
        Connection server = listener.accept(Duration.ofSeconds(10))) {
      client.sendBytes(new byte[] {1});
      assertArrayEquals(new byte[] {1}, server.receiveBytes());
    }
  }

  @Test
  void refusesANegativeOrOverlongSpinNamingIt() {
    ConnectionOptions.Builder b = ConnectionOptions.builder();
    assertEquals("receiveSpin < 0: PT-0.001S",
        assertThrows(IllegalArgumentException.class, () -> b.receiveSpin(Duration.ofMillis(-1)))
            .getMessage());
    assertEquals("receiveSpin over 1 s: PT2S (a core busy that long is better spent sleeping)",
        assertThrows(IllegalArgumentException.class, () -> b.receiveSpin(Duration.ofSeconds(2)))
            .getMessage());
    assertEquals("spin", assertThrows(NullPointerException.class, () -> b.receiveSpin(null))
        .getMessage());
    assertEquals(Duration.ZERO, ConnectionOptions.defaults().receiveSpin());
    ConnectionOptions spinning = b.receiveSpin(Duration.ofNanos(50_000)).build();
    assertEquals(Duration.ofNanos(50_000), spinning.toBuilder().build().receiveSpin());
    assertTrue(spinning.toString().contains("receiveSpin=PT0.00005S"), spinning.toString());
  }
}
