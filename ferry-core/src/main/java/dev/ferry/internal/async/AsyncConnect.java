package dev.ferry.internal.async;

import dev.ferry.Address;
import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.ConnectionOptions;
import dev.ferry.async.AsyncConnection;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.Sockets;
import dev.ferry.internal.transport.TlsTransport;
import dev.ferry.internal.transport.Transport;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A client's connect on an event loop, the asynchronous twin of {@code Client.connect}: a
 * non-blocking connect that the loop finishes, then the TLS handshake if the options ask for one
 * ({@link AsyncTlsHandshake}), then the client side of the HMAC handshake if they carry a key
 * ({@link AsyncClientHandshake}); no thread waits for the peer. Every step runs on the one loop
 * chosen at the start, which the connection then stays on. Opening the socket and wording its
 * errors is {@link Sockets}' code, shared with the blocking connect; making the transport and the
 * connection is the caller's ({@link Ends}).
 *
 * <p>The future owns what the connect opens until it completes with the connection: failed,
 * cancelled or completed from outside at any step, the socket, transport or connection made so far
 * is closed.
 */
public final class AsyncConnect implements EventLoop.Handler {
  private static final System.Logger LOG = System.getLogger(AsyncConnect.class.getName());

  /** How the client makes its connection over a connected socket: the blocking connect's code. */
  public interface Ends {
    /** The transport over {@code channel}: TLS if the options ask for it. */
    Transport transport(SocketChannel channel) throws IOException;

    /** The connection over {@code transport}, whose handshakes are still to run. */
    Connection connection(Transport transport);

    /** Records {@code connection} as opened: handshakes of {@code handshakeNanos}, its digest. */
    void opened(Connection connection, long handshakeNanos, String digest);

    /** Records that a handshake over {@code channel} (still open) failed with {@code failure}. */
    void failed(SocketChannel channel, Throwable failure);
  }

  private final Address address;
  private final ConnectionOptions options;
  private final LoopGroup group;
  private final Ends ends;
  private final CompletableFuture<AsyncConnection> result = new CompletableFuture<>();

  /** The latest thing made (socket, transport, connection): closing it closes those before it. */
  private volatile Closeable made;
  /** Set once a step completes the result itself and has seen to what it made. */
  private volatile boolean settled;

  /** The loop every step runs on; chosen before the future is handed out. */
  private EventLoop loop;

  // The connect step, on the loop thread.
  private SocketChannel channel;
  private SelectionKey key;
  private EventLoop.Timer timer;

  // The handshakes, on the loop thread.
  private long handshakeStarted;
  private Connection connection;

  private AsyncConnect(Address address, ConnectionOptions options, LoopGroup group, Ends ends) {
    this.address = address;
    this.options = options;
    this.group = group;
    this.ends = ends;
  }

  /**
   * Connects to {@code address} and runs the handshakes the options ask for, on one of
   * {@code group}'s loops; the future completes there with the connection, or fails with the
   * exceptions the blocking connect throws.
   */
  public static CompletableFuture<AsyncConnection> start(Address address, ConnectionOptions options,
      LoopGroup group, Ends ends) {
    AsyncConnect c = new AsyncConnect(address, options, group, ends);
    c.result.whenComplete((connection, e) -> {
      if (e == null || c.settled) return;
      // Cancelled, or ended from outside: close what was made, and drop a connect step's timer.
      c.closeQuietly(c.made);
      if (c.loop != null) c.loop.execute(c::endConnectStep);
    });
    c.connect();
    return c.result;
  }

  private void connect() {
    SocketAddress target;
    try {
      target = Sockets.socketAddress(address);
      channel = Sockets.open(address);
    } catch (IOException | RuntimeException e) {
      fail(e);
      return;
    }
    if (!keep(channel)) return;
    try {
      loop = group.next(channel.provider());
      if (channel.connect(target)) {
        connected();
        return;
      }
    } catch (IOException e) {
      fail(Sockets.connectFailure(e, address));
      return;
    } catch (RuntimeException e) { // the loops are closed
      fail(e);
      return;
    }
    loop.execute(this::register);
  }

  /** Loop thread: waits for the socket to connect, within the connect timeout. */
  private void register() {
    if (loop.isClosing()) {
      loopClosed();
      return;
    }
    if (result.isDone()) return; // cancelled: the socket is closed
    try {
      key = loop.register(channel, this);
      key.interestOps(SelectionKey.OP_CONNECT);
    } catch (IOException e) {
      fail(Sockets.connectFailure(e, address));
      return;
    } catch (RuntimeException e) {
      fail(e);
      return;
    }
    Duration timeout = options.connectTimeout();
    timer = loop.schedule(AsyncEndpoint.toNanos(timeout),
        () -> fail(Sockets.connectTimedOut(timeout, address)));
  }

  @Override
  public void ready(SelectionKey k) {
    try {
      if (!channel.finishConnect()) return;
    } catch (IOException e) {
      fail(Sockets.connectFailure(e, address));
      return;
    } catch (RuntimeException e) {
      fail(e);
      return;
    }
    endConnectStep();
    connected();
  }

  @Override
  public void loopClosed() {
    fail(new ConnectionClosedException("event loops are closed"));
  }

  private void endConnectStep() {
    if (key != null) key.cancel();
    if (timer != null) timer.cancel();
    if (loop != null) loop.leave(this);
  }

  /** The socket is connected: the transport, then its TLS handshake if it has one. */
  private void connected() {
    handshakeStarted = System.nanoTime();
    long deadline = Deadlines.after(options.handshakeTimeout()); // TLS and HMAC together
    Transport transport;
    try {
      transport = ends.transport(channel);
    } catch (IOException | RuntimeException e) {
      fail(e);
      return;
    }
    if (!keep(transport::close)) return;
    if (!(transport instanceof TlsTransport tls)) {
      authenticate(transport, deadline);
      return;
    }
    AsyncTlsHandshake.run(loop, tls, options.handshakeTimeout(), address.toString())
        .whenComplete((v, e) -> {
          if (e == null) {
            authenticate(transport, deadline);
          } else {
            if (!result.isDone()) ends.failed(channel, e);
            fail(e);
          }
        });
  }

  /** The connection on the loop, then the HMAC handshake if the options carry a key. */
  private void authenticate(Transport transport, long deadline) {
    AsyncEndpoint endpoint;
    try {
      connection = ends.connection(transport);
      endpoint = AsyncEndpoint.openOn(connection, loop, group.sendQueueBytes());
    } catch (RuntimeException e) {
      fail(e);
      return;
    }
    if (!keep(endpoint::close)) return;
    if (options.authKey().isEmpty()) {
      succeed(endpoint, "none");
      return;
    }
    // What the TLS handshake left of the handshake timeout, so that both fit in it as in connect.
    Duration left = Duration.ofNanos(Math.max(1, Deadlines.remaining(deadline)));
    endpoint.clientHandshake(options.authKey().get().bytes(), options.unprefixedDigest(), left,
        options.handshakeTimeout(),
        address.toString()).whenComplete((digest, e) -> {
          if (e == null) {
            succeed(endpoint, digest);
          } else {
            // The handshake closes the connection itself, once a #FAILURE# it owes has left.
            if (!result.isDone()) ends.failed(channel, e);
            settled = true;
            result.completeExceptionally(e);
          }
        });
  }

  /**
   * Records {@code thing} as what the connect has made so far; false if the future is done already
   * (cancelled), and {@code thing} closed.
   */
  private boolean keep(Closeable thing) {
    made = thing;
    if (!result.isDone()) return true;
    closeQuietly(thing);
    return false;
  }

  private void succeed(AsyncConnection endpoint, String digest) {
    settled = true;
    // Recorded before the caller has it (and may close it), unless the caller gave up already.
    if (!result.isDone()) ends.opened(connection, System.nanoTime() - handshakeStarted, digest);
    if (!result.complete(endpoint)) closeQuietly(endpoint::close); // nobody takes it any more
  }

  private void fail(Throwable e) {
    if (loop != null && loop.inLoop()) endConnectStep();
    settled = true;
    closeQuietly(made);
    result.completeExceptionally(e);
  }

  private void closeQuietly(Closeable thing) {
    if (thing == null) return;
    try {
      thing.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "closing what the " + this + " made", e);
    }
  }

  @Override
  public String toString() {
    return "connect to " + address;
  }
}
