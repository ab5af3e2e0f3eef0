package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.EOFException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A peer that sends and hangs up while a blocking receiver waits: the receiver gets the message,
 * then end of stream. junixsocket's selector cancels its key in the select that reports the data
 * and the hang-up together; before this was handled the second receive waited forever.
 */
@ExtendWith(LeakCheck.class)
class HangUpTest {

  @ParameterizedTest
  @EnumSource(Transports.class)
  void blockedReceiverSeesTheLastMessageThenEndOfStream(Transports transport) throws Exception {
    for (int i = 0; i < 30; i++) {
      try (Transports.Pair p = transport.open(ConnectionOptions.defaults())) {
        CompletableFuture<String> reader = CompletableFuture.supplyAsync(() -> {
          try {
            assertArrayEquals(new byte[] {7}, p.right().receiveBytes());
            p.right().receiveBytes();
            return "no end of stream";
          } catch (EOFException e) {
            return "end of stream";
          } catch (Exception e) {
            return e.toString();
          }
        });
        Thread.sleep(2); // usually enough for the reader to block first; the race goes both ways
        p.left().sendBytes(new byte[] {7});
        p.left().close();
        assertEquals("end of stream", reader.get(10, TimeUnit.SECONDS));
      }
    }
  }
}
