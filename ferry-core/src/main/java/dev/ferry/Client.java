package dev.ferry;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import dev.ferry.internal.async.AsyncConnect;
import dev.ferry.internal.async.LoopGroup;
import dev.ferry.internal.auth.ClientHandshake;
import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.auth.HandshakeFailures;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.connection.LaneSetup;
import dev.ferry.internal.events.FerryEvents;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.LaneTransport;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.TlsTransport;
import dev.ferry.internal.transport.Transport;
import dev.ferry.internal.transport.Sockets;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Connects to a {@link Listener}, or to a Python {@code multiprocessing.connection.Listener}.
 *
 * <pre>{@code
 * ConnectionOptions options = ConnectionOptions.builder().authKey(key).build();
 * try (Connection c = Client.connect(Address.parse("tcp:127.0.0.1:6000"), options)) {
 *   c.send("hello", Codecs.utf8());
 * }
 * }</pre>
 *
 * <p>Python: {@code multiprocessing.connection.Client}.
 */
public final class Client {
  private Client() {}

  /** Connects with no key. */
  public static Connection connect(Address address) throws IOException {
    return connect(address, ConnectionOptions.defaults());
  }

  /**
   * Connects to {@code address} within {@link ConnectionOptions#connectTimeout()}, then runs the
   * TLS handshake if the options carry an {@link ConnectionOptions#tls() SSLContext}, then the
   * client side of the HMAC handshake if they carry a key; both handshakes together within
   * {@link ConnectionOptions#handshakeTimeout()}.
   *
   * @throws ConnectException naming the address if nobody listens there ("connection
   *     refused: tcp:127.0.0.1:9", "no such socket file: unix:/tmp/x")
   * @throws SocketTimeoutException if the connection or the handshake takes too long
   * @throws AuthenticationException if the handshake fails ("digest sent was rejected")
   * @throws TlsHandshakeException if the TLS handshake fails (a certificate not trusted, or naming
   *     another host)
   * @throws IllegalArgumentException for TLS options with a Unix socket address
   */
  public static Connection connect(Address address, ConnectionOptions options) throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    options.checkTlsAddress(address);
    SocketChannel channel = Sockets.connect(address, options.connectTimeout());
    long started = System.nanoTime();
    long deadline = Deadlines.after(options.handshakeTimeout()); // TLS and HMAC together
    Ends ends = new Ends(address, options);
    Transport transport;
    FramedConnection connection;
    try {
      transport = ends.transport(channel);
      if (transport instanceof LaneTransport l && options.authKey().isEmpty()) {
        LaneSetup.announce(l); // before anything slow: a keyless listener waits only briefly
      }
      connection = ends.connection(transport);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    String digest = "none";
    try {
      if (transport instanceof TlsTransport tls) tls.handshake(deadline);
      LaneTransport lane = transport instanceof LaneTransport l ? l : null;
      if (options.authKey().isPresent()) {
        ClientHandshake handshake = Handshake.clientSide(connection.handshakeChannel(deadline),
            options.authKey().get().bytes(), options.unprefixedDigest(), lane != null);
        digest = handshake.digest();
        if (lane != null && handshake.laneAgreed()) {
          LaneSetup.offer(lane, options.sharedMemoryLane().get(), deadline);
        }
      } else if (lane != null) {
        // No handshake to agree in: offer blindly (LANE.md 1.2; a lane listener is expected).
        LaneSetup.offer(lane, options.sharedMemoryLane().get(), deadline, true);
      }
    } catch (SocketTimeoutException e) {
      IOException timedOut = Sockets.handshakeTimedOut(options.handshakeTimeout(), address);
      ends.failed(channel, timedOut);
      connection.close();
      throw timedOut;
    } catch (IOException | RuntimeException e) {
      ends.failed(channel, e);
      connection.close();
      throw e;
    }
    connection.trimBuffers(); // allocated again by the first receive or send that needs them
    ends.opened(connection, System.nanoTime() - started, digest);
    return connection;
  }

  /**
   * Connects and authenticates without blocking: the asynchronous twin of
   * {@link #connect(Address, ConnectionOptions)}. The connect and the client side of the
   * handshake run on one of {@code loops}' threads; the future completes there with an
   * {@link AsyncConnection}, or fails with the exceptions {@code connect} throws. Cancelling the
   * future, or completing it from outside, before it completed closes whatever it opened.
   */
  public static CompletableFuture<AsyncConnection> connectAsync(Address address,
      ConnectionOptions options, EventLoops loops) {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    LoopGroup group = LoopGroup.of(loops);
    try {
      options.checkTlsAddress(address);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return AsyncConnect.start(address, options, group, new Ends(address, options));
  }

  /** How a client makes its connection over a connected socket, blocking or not. */
  private record Ends(Address address, ConnectionOptions options) implements AsyncConnect.Ends {
    /** The TLS client end if the options ask for TLS, else the plain socket. */
    @Override
    public Transport transport(SocketChannel channel) throws IOException {
      if (options.tls().isEmpty()) {
        if (LaneSetup.wanted(options) && channel instanceof AFUNIXSocketChannel unix) {
          return LaneSetup.transport(unix, options);
        }
        return new SocketTransport(channel);
      }
      Address.Tcp tcp = (Address.Tcp) address;
      return TlsTransport.client(channel, options.tls().get(),
          options.tlsServerName().orElse(tcp.host()), tcp.port(), address.toString());
    }

    @Override
    public FramedConnection connection(Transport transport) {
      return new FramedConnection(transport, address.toString(), true, true, options);
    }

    @Override
    public void opened(Connection connection, long handshakeNanos, String digest) {
      ((FramedConnection) connection).recordOpened("connected", options.tls().isPresent() ? "tls"
          : address instanceof Address.Tcp ? "tcp" : "unix", handshakeNanos, digest);
    }

    @Override
    public void failed(SocketChannel channel, Throwable failure) {
      if (!FerryEvents.handshakeFailedEnabled()) return;
      String peer;
      try {
        SocketAddress a = channel.getRemoteAddress();
        peer = a == null ? "" : a.toString();
      } catch (IOException | RuntimeException e) {
        peer = "";
      }
      FerryEvents.handshakeFailed("connected", address.toString(), peer,
          HandshakeFailures.classify(failure).reason(), failure.getMessage());
    }
  }
}
