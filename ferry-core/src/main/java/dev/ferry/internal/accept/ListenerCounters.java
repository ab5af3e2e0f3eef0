package dev.ferry.internal.accept;

import dev.ferry.HandshakeFailure;
import dev.ferry.ListenerMetrics;
import dev.ferry.internal.auth.HandshakeFailures;
import dev.ferry.internal.connection.FramedConnection;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A listener's counts. The accept thread counts accepts and failures; the threads that close
 * accepted connections count them down. Once per connection, never per message.
 */
final class ListenerCounters {
  private static final HandshakeFailure[] REASONS = HandshakeFailure.values();

  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong open = new AtomicLong();
  private final AtomicLongArray failures = new AtomicLongArray(REASONS.length);

  /** Counts {@code connection} as accepted and open until it closes. */
  void accepted(FramedConnection connection) {
    accepted.incrementAndGet();
    open.incrementAndGet();
    connection.whenClosed(open::decrementAndGet);
  }

  /** Counts a failure and returns its reason. */
  HandshakeFailure failed(IOException e) {
    HandshakeFailure reason = classify(e);
    failures.incrementAndGet(reason.ordinal());
    return reason;
  }

  static HandshakeFailure classify(IOException e) {
    return HandshakeFailures.classify(e);
  }

  ListenerMetrics snapshot() {
    Map<HandshakeFailure, Long> byReason = new EnumMap<>(HandshakeFailure.class);
    for (HandshakeFailure r : REASONS) byReason.put(r, failures.get(r.ordinal()));
    return new ListenerMetrics(accepted.get(), open.get(), byReason);
  }
}
