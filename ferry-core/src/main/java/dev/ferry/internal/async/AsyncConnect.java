package dev.ferry.internal.async;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/** A non-blocking connect finished on an event loop: no thread waits for the peer to accept. */
public final class AsyncConnect implements EventLoop.Handler {
  private final SocketChannel channel;
  private final String address;
  private final CompletableFuture<SocketChannel> result = new CompletableFuture<>();
  private EventLoop.Timer timer;

  private AsyncConnect(SocketChannel channel, String address) {
    this.channel = channel;
    this.address = address;
  }

  /**
   * Connects {@code channel} (non-blocking, not yet connected) to {@code target}. The future
   * completes with the channel once connected; on failure the channel is closed.
   */
  public static CompletableFuture<SocketChannel> connect(LoopGroup group, SocketChannel channel,
      SocketAddress target, Duration timeout, String address) {
    AsyncConnect c = new AsyncConnect(channel, address);
    try {
      if (channel.connect(target)) {
        c.result.complete(channel);
        return c.result;
      }
    } catch (IOException | RuntimeException e) {
      c.fail(e);
      return c.result;
    }
    EventLoop loop;
    try {
      loop = group.next(channel.provider());
    } catch (RuntimeException e) { // the loops are closed
      c.fail(e);
      return c.result;
    }
    loop.execute(() -> {
      if (loop.isClosing()) {
        c.loopClosed();
        return;
      }
      try {
        loop.register(channel, c).interestOps(SelectionKey.OP_CONNECT);
      } catch (IOException | RuntimeException e) {
        c.fail(e);
        return;
      }
      c.timer = loop.schedule(timeout.toNanos(), () -> c.fail(new SocketTimeoutException(
          "connect timed out after " + timeout.toMillis() + " ms: " + address)));
    });
    return c.result;
  }

  @Override
  public void ready(SelectionKey key) {
    try {
      if (!channel.finishConnect()) return;
    } catch (IOException | RuntimeException e) {
      fail(e);
      return;
    }
    key.cancel();
    if (timer != null) timer.cancel();
    result.complete(channel);
  }

  @Override
  public void loopClosed() {
    fail(new dev.ferry.ConnectionClosedException("event loops are closed"));
  }

  private void fail(Exception e) {
    if (timer != null) timer.cancel();
    try {
      channel.close();
    } catch (IOException closeFailed) {
      e.addSuppressed(closeFailed);
    }
    result.completeExceptionally(describe(e));
  }

  private Exception describe(Exception e) {
    if (e instanceof SocketTimeoutException || e instanceof dev.ferry.ConnectionClosedException
        || e instanceof IllegalStateException) {
      return e;
    }
    String reason = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    if (reason.contains("refused")) return new ConnectException("connection refused: " + address);
    if (reason.contains("no such file")) return new ConnectException("no such socket file: " + address);
    return new ConnectException("cannot connect to " + address + ": " + e.getMessage());
  }
}
