package dev.ferry.internal.async;

import dev.ferry.ConnectionClosedException;
import dev.ferry.internal.transport.TlsTransport;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A client's TLS handshake driven by an event loop: each readiness report advances it as far as it
 * goes without waiting, so no thread waits for the server.
 */
public final class AsyncTlsHandshake implements EventLoop.Handler {
  private final TlsTransport tls;
  private final String address;
  private final Duration timeout;
  private final CompletableFuture<Void> result = new CompletableFuture<>();

  // Loop thread only.
  private SelectionKey key;
  private EventLoop.Timer timer;

  private AsyncTlsHandshake(TlsTransport tls, Duration timeout, String address) {
    this.tls = tls;
    this.timeout = timeout;
    this.address = address;
  }

  /**
   * Runs the handshake of {@code tls} (connected, not yet used) on one of {@code group}'s loops. The
   * future completes once it is done; on failure (a {@link dev.ferry.TlsHandshakeException}, or a
   * {@link SocketTimeoutException} after {@code timeout}) the connection is closed.
   */
  public static CompletableFuture<Void> run(LoopGroup group, TlsTransport tls, Duration timeout,
      String address) {
    AsyncTlsHandshake h = new AsyncTlsHandshake(tls, timeout, address);
    EventLoop loop;
    try {
      loop = group.next(tls.channel().provider());
    } catch (RuntimeException e) { // the loops are closed
      h.fail(e);
      return h.result;
    }
    loop.execute(() -> {
      if (loop.isClosing()) {
        h.loopClosed();
        return;
      }
      try {
        h.key = loop.register(tls.channel(), h);
      } catch (IOException | RuntimeException e) {
        h.fail(e);
        return;
      }
      h.timer = loop.schedule(timeout.toNanos(), () -> h.fail(new SocketTimeoutException(
          "handshake timed out after " + timeout.toMillis() + " ms with " + address)));
      h.advance();
    });
    return h.result;
  }

  private void advance() {
    if (result.isDone()) return;
    try {
      TlsTransport.Step step = tls.handshakeStep();
      if (step == TlsTransport.Step.DONE) {
        key.cancel();
        timer.cancel();
        result.complete(null);
        return;
      }
      key.interestOps(step == TlsTransport.Step.NEEDS_READ
          ? SelectionKey.OP_READ : SelectionKey.OP_WRITE);
    } catch (IOException | RuntimeException e) {
      fail(e);
    }
  }

  @Override
  public void ready(SelectionKey k) {
    advance();
  }

  @Override
  public void loopClosed() {
    fail(new ConnectionClosedException("event loops are closed"));
  }

  private void fail(Exception e) {
    if (result.isDone()) return;
    if (timer != null) timer.cancel();
    if (key != null) key.cancel();
    try {
      tls.close();
    } catch (IOException closeFailed) {
      e.addSuppressed(closeFailed);
    }
    result.completeExceptionally(e);
  }

  @Override
  public String toString() {
    return "tls handshake with " + address + " (" + timeout.toMillis() + " ms)";
  }
}
