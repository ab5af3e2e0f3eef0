package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connection the engine closed itself, here by an interrupted blocking receive on a Unix
 * socket, leaves its listener's open count at once, not when the user gets round to close().
 */
@ExtendWith(LeakCheck.class)
class InterruptCloseCountTest {
  private static final AuthKey KEY = AuthKey.fromHex("00112233445566778899");

  @TempDir Path dir;

  @Test
  void interruptedReceiveThatClosesTheSocketCountsItClosed() throws Exception {
    ConnectionOptions o = ConnectionOptions.builder().authKey(KEY)
        .handshakeTimeout(Duration.ofSeconds(10)).build();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("i.sock")), o);
        Connection client = Client.connect(listener.address(), o)) {
      Connection accepted = listener.accept(Duration.ofSeconds(10));
      CompletableFuture<Throwable> failure = new CompletableFuture<>();
      Thread receiver = new Thread(() -> {
        try {
          accepted.receiveBytes();
          failure.complete(null);
        } catch (Throwable t) {
          failure.complete(t);
        }
      });
      receiver.start();
      // Interrupt it once it waits inside the kernel's read, not before (then nothing closes).
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!inNativeCall(receiver) && System.nanoTime() < until) Thread.sleep(1);
      receiver.interrupt();
      Throwable t = failure.get(10, TimeUnit.SECONDS);
      assertTrue(t instanceof InterruptedIOException, String.valueOf(t));
      assertTrue(accepted.isClosed(), "the interrupt closed the socket");
      assertEquals(0, listener.metrics().open(), "closed, yet still counted open");
      accepted.close();
    }
  }

  private static boolean inNativeCall(Thread thread) {
    for (StackTraceElement frame : thread.getStackTrace()) if (frame.isNativeMethod()) return true;
    return false;
  }
}
