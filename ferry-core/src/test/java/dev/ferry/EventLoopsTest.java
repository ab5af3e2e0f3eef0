package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.EOFException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The loop threads themselves: what closing them closes, and what their callbacks cannot break. */
@ExtendWith(LeakCheck.class)
class EventLoopsTest {

  private static Throwable failure(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void closingTheLoopsClosesAUnixConnectionWhosePeerHungUp() throws Exception {
    EventLoops loops = EventLoops.open();
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      AsyncConnection async = AsyncConnection.of(pipe.first(), loops);
      pipe.second().close();
      // The loop has seen the hang-up: junixsocket has cancelled the connection's selector key.
      assertInstanceOf(EOFException.class, failure(async.receiveAsync()));
      loops.close();
      assertTrue(async.isClosed(), "closed with its loop");
      assertTrue(pipe.first().isClosed(), "the connection itself is closed");
      assertInstanceOf(ConnectionClosedException.class, failure(async.sendAsync(new byte[] {1})));
    } finally {
      loops.close();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "UNIX_PATH"})
  void aCallbackThatInterruptsTheLoopThreadClosesNothingAndLosesNoMessage(Transports transport)
      throws Exception {
    try (EventLoops loops = EventLoops.open();
        Transports.Pair pair = transport.open(ConnectionOptions.defaults())) {
      AsyncConnection async = AsyncConnection.of(pair.rightConnection(), loops);
      // Both receives wait before the first message comes, so the callback runs on the loop.
      CompletableFuture<Void> interrupted = async.receiveAsync()
          .thenAccept(m -> Thread.currentThread().interrupt());
      CompletableFuture<byte[]> next = async.receiveAsync();
      pair.left().sendBytes(new byte[] {1});
      interrupted.get(20, TimeUnit.SECONDS);
      async.sendAsync(new byte[] {3}).get(20, TimeUnit.SECONDS);
      pair.left().sendBytes(new byte[] {2});
      assertArrayEquals(new byte[] {2}, next.get(20, TimeUnit.SECONDS));
      assertArrayEquals(new byte[] {3}, pair.leftConnection().receiveBytes());
      assertFalse(async.isClosed());
    }
  }
}
