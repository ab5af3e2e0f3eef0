package dev.ferry;

import java.util.Map;

/**
 * A snapshot of one listener's counts since it was bound: connections accepted (authenticated
 * and queued for {@link Listener#accept()}), those of them still open (not yet closed through
 * {@link Connection#close()}), and the clients it did not accept, by reason.
 *
 * @param handshakeFailures a count for every {@link HandshakeFailure}, zero included; unmodifiable
 */
public record ListenerMetrics(long accepted, long open, Map<HandshakeFailure, Long> handshakeFailures) {
  public ListenerMetrics {
    handshakeFailures = Map.copyOf(handshakeFailures);
  }

  /** All the clients that failed their handshake or were refused. */
  public long handshakeFailuresTotal() {
    long total = 0;
    for (long n : handshakeFailures.values()) total += n;
    return total;
  }
}
