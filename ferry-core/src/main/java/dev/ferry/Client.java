package dev.ferry;

import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.SocketTransport;
import dev.ferry.internal.transport.TlsTransport;
import dev.ferry.internal.transport.Transport;
import dev.ferry.internal.transport.Sockets;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

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
   * @throws java.net.ConnectException naming the address if nobody listens there ("connection
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
    long deadline = Deadlines.after(options.handshakeTimeout()); // TLS and HMAC together
    FramedConnection endpoint;
    TlsTransport tls;
    try {
      tls = tls(channel, address, options);
      Transport transport = tls != null ? tls : new SocketTransport(channel);
      endpoint = new FramedConnection(transport, address.toString(), true, true, options);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    try {
      if (tls != null) tls.handshake(deadline);
      if (options.authKey().isPresent()) {
        Handshake.clientSide(endpoint.handshakeChannel(deadline), options.authKey().get().bytes());
      }
    } catch (SocketTimeoutException e) {
      endpoint.close();
      throw new SocketTimeoutException("handshake timed out after "
          + options.handshakeTimeout().toMillis() + " ms with " + address);
    } catch (IOException | RuntimeException e) {
      endpoint.close();
      throw e;
    }
    endpoint.trimBuffers(); // allocated again by the first receive or send that needs them
    return endpoint;
  }

  /** The TLS client end for {@code channel} if the options ask for TLS, else null. */
  private static TlsTransport tls(SocketChannel channel, Address address,
      ConnectionOptions options) throws IOException {
    if (options.tls().isEmpty()) return null;
    Address.Tcp tcp = (Address.Tcp) address;
    return TlsTransport.client(channel, options.tls().get(),
        options.tlsServerName().orElse(tcp.host()), tcp.port(), address.toString());
  }

  /**
   * Connects and authenticates without blocking: the asynchronous twin of
   * {@link #connect(Address, ConnectionOptions)}. The connect and the client side of the
   * handshake run on one of {@code loops}' threads; the future completes there with an
   * {@link dev.ferry.async.AsyncConnection}, or fails with the exceptions {@code connect} throws.
   */
  public static CompletableFuture<dev.ferry.async.AsyncConnection> connectAsync(Address address,
      ConnectionOptions options, dev.ferry.async.EventLoops loops) {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    dev.ferry.internal.async.LoopGroup group = dev.ferry.internal.async.LoopGroup.of(loops);
    SocketChannel channel;
    java.net.SocketAddress target;
    try {
      options.checkTlsAddress(address);
      target = Sockets.socketAddress(address);
      if (address instanceof Address.Unix unix && !java.nio.file.Files.exists(unix.path())) {
        throw new java.net.ConnectException("no such socket file: " + address);
      }
      channel = address instanceof Address.Tcp
          ? SocketChannel.open() : org.newsclub.net.unix.AFUNIXSocketChannel.open();
      try {
        channel.configureBlocking(false);
        if (address instanceof Address.Tcp) {
          channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        }
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return dev.ferry.internal.async.AsyncConnect
        .connect(group, channel, target, options.connectTimeout(), address.toString())
        .thenCompose(connected -> {
          long deadline = Deadlines.after(options.handshakeTimeout()); // TLS and HMAC together
          Transport transport;
          try {
            TlsTransport tls = tls(connected, address, options);
            transport = tls != null ? tls : new SocketTransport(connected);
          } catch (IOException | RuntimeException e) {
            try {
              connected.close();
            } catch (IOException closeFailed) {
              e.addSuppressed(closeFailed);
            }
            throw new CompletionException(e);
          }
          CompletableFuture<Void> secured = transport instanceof TlsTransport tls
              ? dev.ferry.internal.async.AsyncTlsHandshake.run(group, tls,
                  options.handshakeTimeout(), address.toString())
              : CompletableFuture.completedFuture(null);
          return secured.thenCompose(ignored -> authenticate(transport, address, options, group,
              deadline));
        });
  }

  private static CompletableFuture<dev.ferry.async.AsyncConnection> authenticate(
      Transport transport, Address address, ConnectionOptions options,
      dev.ferry.internal.async.LoopGroup group, long deadline) {
    dev.ferry.internal.async.AsyncEndpoint async;
    try {
      FramedConnection endpoint = new FramedConnection(transport, address.toString(), true, true, options);
      async = dev.ferry.internal.async.AsyncEndpoint.open(endpoint, group);
    } catch (RuntimeException e) {
      try {
        transport.close();
      } catch (IOException closeFailed) {
        e.addSuppressed(closeFailed);
      }
      throw new CompletionException(e);
    }
    if (options.authKey().isEmpty()) return CompletableFuture.completedFuture(async);
    // What the TLS handshake left of the handshake timeout, so that both fit in it as in connect.
    java.time.Duration left = java.time.Duration.ofNanos(Math.max(1, Deadlines.remaining(deadline)));
    return async.clientHandshake(options.authKey().get().bytes(), left, options.handshakeTimeout(),
        address.toString());
  }
}
