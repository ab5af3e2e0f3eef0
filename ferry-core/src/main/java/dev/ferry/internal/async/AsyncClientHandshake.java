package dev.ferry.internal.async;

import dev.ferry.internal.auth.ClientHandshake;
import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.auth.ServerHandshake;
import dev.ferry.internal.transport.Sockets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of the HMAC handshake on an event loop: each message from the server arrives as
 * the completion of an asynchronous receive, and the replies leave as asynchronous sends, so no
 * thread waits for the server.
 */
final class AsyncClientHandshake {
  private final AsyncEndpoint endpoint;
  private final ClientHandshake handshake;
  private final CompletableFuture<String> result = new CompletableFuture<>();

  private AsyncClientHandshake(AsyncEndpoint endpoint, byte[] key, String unprefixedDigest) {
    this.endpoint = endpoint;
    this.handshake = new ClientHandshake(key, unprefixedDigest);
  }

  /**
   * Runs the client side of the handshake with {@code key} on {@code endpoint}; completes with the
   * digest it used ({@link ClientHandshake#digest()}) once both sides are welcomed, or closes it and fails, after {@code timeout} with a message
   * that names {@code reported} (the whole handshake timeout, of which a TLS handshake used the
   * rest) and {@code peer}.
   */
  static CompletableFuture<String> run(AsyncEndpoint endpoint, byte[] key,
      String unprefixedDigest, Duration timeout, Duration reported, String peer) {
    AsyncClientHandshake h = new AsyncClientHandshake(endpoint, key, unprefixedDigest);
    EventLoop loop = endpoint.loop();
    loop.execute(() -> {
      EventLoop.Timer timer = loop.schedule(AsyncEndpoint.toNanos(timeout), () -> {
        if (h.result.completeExceptionally(Sockets.handshakeTimedOut(reported, peer))) {
          endpoint.closeQuietly();
        }
      });
      h.result.whenComplete((c, e) -> timer.cancel());
    });
    h.step();
    return h.result;
  }

  /** Waits for the server's next message (every handshake read capped as CPython's is). */
  private void step() {
    endpoint.receive(Handshake.MAX_MESSAGE_LENGTH, null, m -> m).whenComplete((message, error) -> {
      if (result.isDone()) return;
      if (error != null) {
        result.completeExceptionally(error); // first: its failure is recorded with the peer's address
        endpoint.closeQuietly();
        return;
      }
      answer(message);
    });
  }

  private void answer(byte[] message) {
    ServerHandshake.Step step = handshake.onMessage(message);
    CompletableFuture<Void> sent = CompletableFuture.completedFuture(null);
    for (byte[] reply : step.replies()) sent = endpoint.sendAsync(reply);
    if (step.failure() != null) {
      result.completeExceptionally(step.failure());
      sent.whenComplete((v, e) -> endpoint.closeQuietly()); // after #FAILURE# has left
    } else if (handshake.isDone()) {
      result.complete(handshake.digest());
    } else {
      step();
    }
  }
}
