package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncReceiver;
import dev.ferry.async.EventLoops;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Reproductions from the review of the engine reshape (issue 13). */
@ExtendWith(LeakCheck.class)
class ReviewFindingsTest {

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
