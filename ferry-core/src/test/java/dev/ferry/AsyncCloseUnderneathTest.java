package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.AsyncReceiver;
import dev.ferry.async.EventLoops;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An async endpoint whose connection closes underneath it, and event loops whose keys other
 * threads cancel.
 */
@ExtendWith(LeakCheck.class)
class AsyncCloseUnderneathTest {

  /**
   * AsyncReceiver.of(duplex) leaves sends blocking (its Javadoc). A blocking sendFrom whose
   * source fails after part of the frame left now closes the connection (fix 7): the pending
   * asynchronous receive must then fail, not wait forever.
   */
  @ParameterizedTest
  @EnumSource(value = Transports.class, names = {"SOCKET_PAIR", "TCP_V4"})
  void failsPendingAsyncReceiveWhenABlockingSendCutsAFrame(Transports transport) throws Exception {
    try (EventLoops loops = EventLoops.open(1);
        Transports.Pair pair = transport.open(ConnectionOptions.defaults())) {
      Connection left = pair.leftConnection();
      AsyncReceiver rx = AsyncReceiver.of(left, loops);
      CompletableFuture<byte[]> pending = rx.receiveAsync();
      Thread.sleep(100); // the loop has registered it and watches for reading; proves nothing if not
      IOException failure = new IOException("source broke");
      assertThrows(IOException.class, () -> left.sendFrom(failingSource(200_000, failure), 1 << 20));
      assertTrue(left.isClosed());
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> pending.get(5, TimeUnit.SECONDS), "a pending receive hangs on a closed connection");
      assertInstanceOf(IOException.class, e.getCause());
      rx.close();
    }
  }

  /**
   * junixsocket's selector throws a NullPointerException from select when another thread cancels a
   * key while it builds its poll array (closing a Unix connection from a user thread does). The
   * event loop must survive that: one such race killed the loop and closed every connection on it
   * (seen in AsyncScaleTest: "event loop ferry-loop-N failed ... AFSelectionKey.setOpsReady").
   */
  @Test
  void eventLoopSurvivesUnixConnectionsClosedFromOtherThreads() throws Exception {
    try (EventLoops loops = EventLoops.open(1); Pipe.Duplex keep = Pipe.duplex()) {
      AsyncConnection kept = AsyncConnection.of(keep.first(), loops);
      for (int round = 0; round < 40; round++) {
        List<Pipe.Duplex> pipes = new ArrayList<>();
        List<AsyncConnection> ends = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
          Pipe.Duplex p = Pipe.duplex();
          pipes.add(p);
          AsyncConnection a = AsyncConnection.of(p.first(), loops);
          a.receiveAsync(); // the loop watches it
          ends.add(a);
        }
        for (int i = 0; i < ends.size(); i++) {
          ends.get(i).close();
          pipes.get(i).second().close();
        }
        assertFalse(kept.isClosed(), "round " + round + ": the loop died and closed everything");
      }
      keep.second().sendBytes(new byte[] {1});
      assertArrayEquals(new byte[] {1}, kept.receiveAsync().get(5, TimeUnit.SECONDS));
      kept.close();
    }
  }

  static ReadableByteChannel failingSource(int count, IOException failure) {
    return new ReadableByteChannel() {
      int left = count;

      @Override
      public int read(ByteBuffer dst) throws IOException {
        if (left == 0) throw failure;
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
    };
  }
}
