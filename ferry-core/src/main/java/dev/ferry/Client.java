package dev.ferry;

import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.SocketTransport;
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
   * client side of the handshake if the options carry a key.
   *
   * @throws java.net.ConnectException naming the address if nobody listens there ("connection
   *     refused: tcp:127.0.0.1:9", "no such socket file: unix:/tmp/x")
   * @throws SocketTimeoutException if the connection or the handshake takes too long
   * @throws AuthenticationException if the handshake fails ("digest sent was rejected")
   */
  public static Connection connect(Address address, ConnectionOptions options) throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    SocketChannel channel = Sockets.connect(address, options.connectTimeout());
    Endpoint endpoint;
    try {
      endpoint = new Endpoint(new SocketTransport(channel), address.toString(), true, true,
          options);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (options.authKey().isPresent()) {
      long deadline = Deadlines.after(options.handshakeTimeout());
      try {
        Handshake.clientSide(endpoint.handshakeChannel(deadline), options.authKey().get().bytes());
      } catch (SocketTimeoutException e) {
        endpoint.close();
        throw new SocketTimeoutException("handshake timed out after "
            + options.handshakeTimeout().toMillis() + " ms with " + address);
      } catch (IOException | RuntimeException e) {
        endpoint.close();
        throw e;
      }
      endpoint.trimBuffers(); // allocated again by the first receive or send that needs them
    }
    return endpoint;
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
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
    return dev.ferry.internal.async.AsyncConnect
        .connect(group, channel, target, options.connectTimeout(), address.toString())
        .thenCompose(connected -> {
          dev.ferry.internal.async.AsyncEndpoint async;
          try {
            Endpoint endpoint = new Endpoint(new SocketTransport(connected), address.toString(),
                true, true, options);
            async = dev.ferry.internal.async.AsyncEndpoint.open(endpoint, group);
          } catch (IOException | RuntimeException e) {
            try {
              connected.close();
            } catch (IOException closeFailed) {
              e.addSuppressed(closeFailed);
            }
            throw new CompletionException(e);
          }
          if (options.authKey().isEmpty()) return CompletableFuture.completedFuture(async);
          return async.clientHandshake(options.authKey().get().bytes(),
              options.handshakeTimeout(), address.toString());
        });
  }
}
