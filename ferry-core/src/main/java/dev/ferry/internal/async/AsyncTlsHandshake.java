package dev.ferry.internal.async;

import dev.ferry.ConnectionClosedException;
import dev.ferry.TlsHandshakeException;
import dev.ferry.internal.transport.Sockets;
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
final class AsyncTlsHandshake implements EventLoop.Handler {
  private final TlsTransport tls;
  private final EventLoop loop;
  private final String address;
  private final Duration timeout;
  private final CompletableFuture<Void> result = new CompletableFuture<>();

  // Loop thread only.
  private SelectionKey key;
  private EventLoop.Timer timer;

  private AsyncTlsHandshake(TlsTransport tls, EventLoop loop, Duration timeout, String address) {
    this.tls = tls;
    this.loop = loop;
    this.timeout = timeout;
    this.address = address;
  }

  /**
   * Runs the handshake of {@code tls} (connected, not yet used) on {@code loop}. The future
   * completes there once it is done; on failure (a {@link TlsHandshakeException}, or a
   * {@link SocketTimeoutException} after {@code timeout}) the connection is closed.
   */
  static CompletableFuture<Void> run(EventLoop loop, TlsTransport tls, Duration timeout,
      String address) {
    AsyncTlsHandshake h = new AsyncTlsHandshake(tls, loop, timeout, address);
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
      h.timer = loop.schedule(AsyncEndpoint.toNanos(timeout),
          () -> h.fail(Sockets.handshakeTimedOut(timeout, address)));
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
        loop.leave(this);
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
    loop.leave(this);
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
