package dev.ferry.micrometer;

import dev.ferry.Connection;
import dev.ferry.ConnectionMetrics;
import dev.ferry.HandshakeFailure;
import dev.ferry.Listener;
import dev.ferry.ListenerMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Publishes a Ferry {@link Listener}'s or {@link Connection}'s counts as Micrometer meters. The
 * meters read {@link Listener#metrics()} or {@link Connection#metrics()} when the registry asks
 * (each read is a few plain loads, no lock), and hold the listener or connection weakly, as
 * Micrometer's function meters do: a closed and forgotten one stops reporting.
 *
 * <pre>{@code
 * FerryMeterBinder.forListener(listener, Tags.of("server", "worker")).bindTo(registry);
 * }</pre>
 *
 * <p>Listener meters: {@code ferry.listener.accepted} (counter), {@code ferry.listener.open}
 * (gauge), {@code ferry.listener.handshake.failures} (counter, tag {@code reason}: wrong_key,
 * timeout, protocol_error, refused_by_policy). Connection meters: {@code ferry.connection.messages}
 * and {@code ferry.connection.bytes} (counters, tag {@code direction}: sent, received) and
 * {@code ferry.connection.queued.bytes} (gauge: asynchronous sends not yet written).
 */
public final class FerryMeterBinder implements MeterBinder {
  private final Listener listener;
  private final Connection connection;
  private final Tags tags;

  private FerryMeterBinder(Listener listener, Connection connection, Tags tags) {
    this.listener = listener;
    this.connection = connection;
    this.tags = Objects.requireNonNull(tags, "tags");
  }

  /** Meters for {@code listener}, each with {@code tags} (and its address as tag {@code address}). */
  public static FerryMeterBinder forListener(Listener listener, Tags tags) {
    Objects.requireNonNull(listener, "listener");
    return new FerryMeterBinder(listener, null, tags.and("address", listener.address().toString()));
  }

  /** Meters for {@code connection}, each with {@code tags}. */
  public static FerryMeterBinder forConnection(Connection connection, Tags tags) {
    Objects.requireNonNull(connection, "connection");
    return new FerryMeterBinder(null, connection, tags);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    if (listener != null) bindListener(registry); else bindConnection(registry);
  }

  private void bindListener(MeterRegistry registry) {
    counter(registry, "ferry.listener.accepted", "connections accepted (authenticated)",
        listener, l -> l.metrics().accepted(), tags);
    Gauge.builder("ferry.listener.open", listener, l -> l.metrics().open())
        .description("accepted connections not yet closed").tags(tags).register(registry);
    for (HandshakeFailure reason : HandshakeFailure.values()) {
      counter(registry, "ferry.listener.handshake.failures", "clients not accepted, by reason",
          listener, l -> failures(l.metrics(), reason),
          tags.and("reason", reason.name().toLowerCase(Locale.ROOT)));
    }
  }

  private static double failures(ListenerMetrics m, HandshakeFailure reason) {
    return m.handshakeFailures().get(reason);
  }

  private void bindConnection(MeterRegistry registry) {
    Tags sent = tags.and("direction", "sent");
    Tags received = tags.and("direction", "received");
    counter(registry, "ferry.connection.messages", "messages", connection,
        c -> c.metrics().messagesSent(), sent);
    counter(registry, "ferry.connection.messages", "messages", connection,
        c -> c.metrics().messagesReceived(), received);
    counter(registry, "ferry.connection.bytes", "payload bytes", connection,
        c -> c.metrics().bytesSent(), sent);
    counter(registry, "ferry.connection.bytes", "payload bytes", connection,
        c -> c.metrics().bytesReceived(), received);
    Gauge.builder("ferry.connection.queued.bytes", connection,
            c -> (double) queued(c.metrics()))
        .description("bytes of asynchronous sends not yet written").baseUnit("bytes").tags(tags)
        .register(registry);
  }

  private static long queued(ConnectionMetrics m) {
    return m.queuedAsyncBytes();
  }

  private static <T> void counter(MeterRegistry registry, String name, String description, T source,
      ToDoubleFunction<T> count, Tags tags) {
    FunctionCounter.builder(name, source, count).description(description).tags(tags)
        .register(registry);
  }
}
