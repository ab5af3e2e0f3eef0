package dev.ferry.async;

import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.FramingException;
import dev.ferry.Listener;
import dev.ferry.MessageTooLargeException;
import dev.ferry.Pipe;
import dev.ferry.Receiver;
import dev.ferry.Sender;
import dev.ferry.Wait;
import dev.ferry.WaitSet;
import dev.ferry.internal.async.AsyncEndpoint;
import dev.ferry.internal.async.LoopGroup;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link Connection} driven by {@link EventLoops}: sends and receives return
 * {@link CompletableFuture}s and hold no thread while they wait. Same wire format, same peers
 * (a Python {@code multiprocessing.connection} peer sees no difference).
 *
 * <pre>{@code
 * try (EventLoops loops = EventLoops.open()) {
 *   AsyncConnection c = AsyncConnection.of(listener.accept(), loops);
 *   c.receiveAsync().thenCompose(c::sendAsync);  // echo one message
 * }
 * }</pre>
 *
 * <p>Getting one: {@link #of(Connection, EventLoops)} wraps a connection of any transport (an
 * accepted one, a client, a {@link Pipe} end); {@link Client#connectAsync}
 * connects and authenticates without blocking; {@link Listener#acceptAsync()} accepts
 * without blocking. The ends of a one-way pipe, which only receive or only send, have their own
 * types with the same promises: {@link AsyncReceiver#of} and {@link AsyncSender#of}.
 *
 * <p><b>Order.</b> Receive futures complete in the order {@code receiveAsync} was called, each
 * with the next whole message; send futures complete in the order {@code sendAsync} was called
 * (calls from different threads are ordered as they reach the connection's loop). Futures
 * complete on the connection's loop thread: stages chained without {@code ...Async} run there
 * and must not block.
 *
 * <p><b>Cancelling and timeouts never lose a message.</b> Cancelling a pending receive, or
 * completing it any other way ({@link CompletableFuture#orTimeout}, {@code complete}), gives the
 * message it would have had to the next receive, whole. {@link #receiveAsync(Duration)} fails
 * with {@link SocketTimeoutException} when no message came in time, and the connection
 * stays usable. Cancelling a send whose bytes have not started to leave withdraws it; once started
 * it goes out whole, and {@code cancel} (like {@code orTimeout} or {@code complete} from outside)
 * leaves its future pending until the message was handed over: the caller's buffer is in use until
 * then.
 *
 * <p><b>Backpressure.</b> Each connection queues at most {@link EventLoops#sendQueueBytes()}
 * bytes of encoded messages (one message is always let in, whatever its size). A send made while
 * the queue is full is not copied or encoded yet: it waits, in order, holding a reference to the
 * caller's array, buffer or value, and its future completes only after there was room and it was
 * written. So a sender that waits for its futures (or limits how many are outstanding) uses
 * bounded memory. Don't modify what you passed to a send until its future completes. A receive
 * reads only while a receive is pending: a peer that sends faster than this side asks is held back
 * by the operating system's socket buffers, not by this process's heap.
 *
 * <p><b>Mixing with blocking calls.</b> Sends may mix: blocking sends on {@link #connection()}
 * and asynchronous sends share the connection's send lock, so every message goes out whole, in
 * the order each side reached the lock. Receiving belongs to the loop: once wrapped, blocking
 * receives and polls on the connection throw {@link IllegalStateException} ("connection receives
 * asynchronously"), and wrapping a connection that a thread is blocked receiving on throws it
 * too. {@link Wait} and {@link WaitSet} do not support wrapped connections.
 *
 * <p><b>Ending.</b> {@link #close()} closes the connection and fails every pending future with
 * {@link ConnectionClosedException}; so does closing the {@link EventLoops}. Close
 * through this object, not through {@link #connection()}, so that the loop learns of it. When
 * the peer closes at a message boundary, pending and later receives fail with
 * {@link EOFException} (after any messages that had already arrived); a stream that ends
 * inside a message fails them with {@link FramingException}.
 *
 * <p><b>Messages over 2 GiB.</b> {@link #receiveAsync()} and {@link #sendAsync(ByteBuffer)} stop
 * at what a Java array or buffer holds; {@link #receiveToAsync} and {@link #sendFromAsync} stream
 * messages of any length through a channel, as the blocking {@code receiveTo} and
 * {@code sendFrom} do. A longer message offered to {@code receiveAsync} fails it with
 * {@link MessageTooLargeException} and leaves the connection write-only, as any
 * too-large message does.
 *
 * <p>Implemented by Ferry only.
 */
public interface AsyncConnection extends AsyncReceiver, AsyncSender {

  /**
   * Hands {@code connection}'s receiving to a loop of {@code loops}, for good, and sends from
   * there too. A connection that can only receive (read-only) or only send (write-only, for
   * instance after a too-large message) may be wrapped: the other side's futures then fail with
   * {@link IllegalStateException} ("connection is read-only", "connection is write-only").
   *
   * @throws IllegalStateException if it is closed, a thread is blocked receiving on it, or it was
   *     wrapped already
   * @throws IllegalArgumentException if {@code loops} did not come from {@link EventLoops#open}
   */
  static AsyncConnection of(Connection connection, EventLoops loops) {
    return AsyncEndpoint.open(connection, LoopGroup.of(loops), AsyncEndpoint.Role.CONNECTION);
  }

  /** The wrapped connection: for its description, and for blocking sends. */
  Connection connection();

  /** The wrapped connection. */
  @Override
  default Receiver receiver() {
    return connection();
  }

  /** The wrapped connection. */
  @Override
  default Sender sender() {
    return connection();
  }

  /** Closes the connection and fails pending futures with ConnectionClosedException. Idempotent. */
  @Override
  void close() throws IOException;
}
