package dev.ferry.async;

import dev.ferry.ConnectionClosedException;
import dev.ferry.internal.async.LoopGroup;

/**
 * A small fixed set of threads, named {@code ferry-loop-N}, that drive {@link AsyncConnection}s:
 * each thread owns one selector and serves every connection registered on it. Unix sockets
 * (junixsocket) and TCP sockets (the JDK) cannot share a selector, so each kind gets up to
 * {@link #threadsPerKind()} loops of its own, started when the first connection of that kind
 * arrives. Connections are spread over the loops round robin and stay on theirs for good.
 *
 * <pre>{@code
 * try (EventLoops loops = EventLoops.open();
 *      AsyncConnection c = AsyncConnection.of(connection, loops)) {
 *   c.sendAsync(request).thenCompose(v -> c.receiveAsync()).thenAccept(this::handle).join();
 * }
 * }</pre>
 *
 * <p>Completion stages that are not {@code ...Async} run on a loop thread: they must not block,
 * or every connection on that loop waits.
 *
 * <p>Closing the group closes every connection on it, including one whose peer hung up, and every
 * connect still in progress (pending futures fail with {@link ConnectionClosedException}), and
 * returns once all its threads have ended.
 *
 * <p>Only Ferry implements this interface (it is sealed): {@link #open()} makes the groups.
 */
public sealed interface EventLoops extends AutoCloseable permits LoopGroup {

  /** Default bound of each connection's send queue: 1 MiB. */
  long DEFAULT_SEND_QUEUE_BYTES = 1 << 20;

  /** One loop per kind of socket. */
  static EventLoops open() {
    return open(1);
  }

  /**
   * {@code threadsPerKind} loops for Unix sockets and as many for TCP, with send queues of
   * {@link #DEFAULT_SEND_QUEUE_BYTES}.
   *
   * @throws IllegalArgumentException if {@code threadsPerKind < 1}
   */
  static EventLoops open(int threadsPerKind) {
    return new LoopGroup(threadsPerKind, DEFAULT_SEND_QUEUE_BYTES);
  }

  /**
   * As {@link #open(int)}, with each connection's send queue bounded at {@code sendQueueBytes}
   * (see {@link AsyncConnection#sendAsync(byte[])}).
   */
  static EventLoops open(int threadsPerKind, long sendQueueBytes) {
    return new LoopGroup(threadsPerKind, sendQueueBytes);
  }

  /** The most loop threads for each kind of socket. */
  int threadsPerKind();

  /** The bound of each connection's send queue, in bytes of encoded frames. */
  long sendQueueBytes();

  boolean isClosed();

  /**
   * Closes every connection on these loops and stops the threads, waiting until they have ended.
   * Idempotent. Called from a loop thread itself, it does not wait for that thread.
   */
  @Override
  void close();
}
