package dev.ferry.internal.transport;

import dev.ferry.Address;
import dev.ferry.PeerCredentials;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketCredentials;

/** Opens the right kind of channel for an {@link Address}. */
public final class Sockets {
  private Sockets() {}

  /** The socket address for {@code address}; resolves TCP host names. */
  public static SocketAddress socketAddress(Address address) throws IOException {
    if (address instanceof Address.Unix unix) return AFUNIXSocketAddress.of(unix.path());
    if (address instanceof Address.Abstract abs) return AFUNIXSocketAddress.inAbstractNamespace(abs.name());
    Address.Tcp tcp = (Address.Tcp) address;
    try {
      return new InetSocketAddress(InetAddress.getByName(tcp.host()), tcp.port());
    } catch (UnknownHostException e) {
      throw new UnknownHostException("unknown host: " + tcp.host() + " in " + address);
    }
  }

  /** Binds a non-blocking server channel at {@code address}. */
  public static ServerSocketChannel bind(Address address, int backlog) throws IOException {
    SocketAddress socketAddress = socketAddress(address);
    ServerSocketChannel server;
    if (address instanceof Address.Tcp) {
      InetSocketAddress inet = (InetSocketAddress) socketAddress;
      server = ServerSocketChannel.open(inet.getAddress() instanceof Inet6Address
          ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
      server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    } else {
      if (address instanceof Address.Unix unix
          && Files.exists(unix.path(), LinkOption.NOFOLLOW_LINKS)) {
        // junixsocket would replace the file; CPython fails instead, and so do we: it may be live.
        throw new BindException("address already in use: " + address);
      }
      AFUNIXServerSocketChannel unix = AFUNIXServerSocketChannel.open();
      // junixsocket would delete whatever is at the path on close, even a file someone put there
      // after ours was removed; Listener deletes the socket file itself, only if it is still ours.
      unix.setDeleteOnClose(false);
      server = unix;
    }
    try {
      server.bind(socketAddress, backlog);
      server.configureBlocking(false);
      return server;
    } catch (IOException e) {
      server.close();
      if (e instanceof BindException) {
        // The JDK reports both "in use" and "cannot assign requested address" (an address this
        // host does not have) as a BindException: only the first is a busy address.
        String why = String.valueOf(e.getMessage());
        throw new BindException(why.toLowerCase(Locale.ROOT).contains("in use")
            ? "address already in use: " + address
            : "cannot listen on " + address + ": " + why);
      }
      throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
  }

  /** The address a bound server channel reports, in Ferry's form. */
  public static Address boundAddress(Address requested, ServerSocketChannel server)
      throws IOException {
    if (requested instanceof Address.Tcp tcp) {
      InetSocketAddress local = (InetSocketAddress) server.getLocalAddress();
      return new Address.Tcp(tcp.host(), local.getPort());
    }
    return requested;
  }

  /**
   * Connects a non-blocking channel to {@code address}, waiting at most {@code timeout}.
   *
   * @throws ConnectException naming the address (see {@link #connectFailure})
   * @throws SocketTimeoutException if the peer does not accept in time
   */
  public static SocketChannel connect(Address address, Duration timeout) throws IOException {
    SocketAddress target = socketAddress(address);
    SocketChannel channel = open(address);
    try {
      if (!channel.connect(target)) awaitConnect(channel, address, timeout);
      return channel;
    } catch (IOException e) {
      channel.close();
      throw connectFailure(e, address);
    } catch (RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /**
   * A non-blocking channel of the kind {@code address} needs, not yet connected; TCP without
   * Nagle's delay.
   *
   * @throws ConnectException if {@code address} names a socket file that does not exist
   */
  public static SocketChannel open(Address address) throws IOException {
    if (address instanceof Address.Unix unix && !Files.exists(unix.path())) {
      throw new ConnectException("no such socket file: " + address);
    }
    SocketChannel channel = address instanceof Address.Tcp
        ? SocketChannel.open() : AFUNIXSocketChannel.open();
    try {
      channel.configureBlocking(false);
      if (address instanceof Address.Tcp) channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      return channel;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /**
   * What a failed connect to {@code address} throws: a timeout, or an exception that already
   * names the address, as it is; else a {@link ConnectException} naming it ("connection refused:
   * tcp:127.0.0.1:9", "no such socket file: unix:/tmp/x", "cannot connect to ...: reason").
   */
  public static IOException connectFailure(IOException e, Address address) {
    String message = e.getMessage();
    if (e instanceof SocketTimeoutException) return e;
    if (message != null && message.contains(address.toString())) return e;
    String reason = String.valueOf(message).toLowerCase(Locale.ROOT);
    if (reason.contains("refused")) return new ConnectException("connection refused: " + address);
    if (reason.contains("no such file")) return new ConnectException("no such socket file: " + address);
    return new ConnectException("cannot connect to " + address + ": " + message);
  }

  /** The exception for a connect to {@code address} that did not finish within {@code timeout}. */
  public static SocketTimeoutException connectTimedOut(Duration timeout, Address address) {
    return new SocketTimeoutException("connect timed out after " + timeout.toMillis() + " ms: "
        + address);
  }

  /**
   * The exception for a client's handshakes (TLS and HMAC together) with {@code peer} that did
   * not finish within {@code timeout}.
   */
  public static SocketTimeoutException handshakeTimedOut(Duration timeout, Object peer) {
    return new SocketTimeoutException("handshake timed out after " + timeout.toMillis()
        + " ms with " + peer);
  }

  private static void awaitConnect(SocketChannel channel, Address address, Duration timeout)
      throws IOException {
    long deadline = Deadlines.after(timeout);
    try (Selector selector = channel.provider().openSelector()) {
      channel.register(selector, SelectionKey.OP_CONNECT);
      while (!channel.finishConnect()) {
        long millis = Deadlines.selectMillis(deadline);
        if (millis < 0) throw connectTimedOut(timeout, address);
        Deadlines.select(selector, millis);
        selector.selectedKeys().clear();
      }
    }
  }

  /**
   * The kernel's record of the process at the other end of a Unix socket; empty for TCP.
   *
   * @throws IOException if the socket is closed or the credentials cannot be read
   */
  public static Optional<PeerCredentials> peerCredentials(SocketChannel channel)
      throws IOException {
    if (!(channel instanceof AFUNIXSocketChannel unix)) return Optional.empty();
    AFUNIXSocketCredentials c = unix.getPeerCredentials();
    if (c == null || c.isEmpty()) return Optional.empty();
    return Optional.of(new PeerCredentials(c.getPid(), c.getUid(), c.getGid()));
  }

  /**
   * The address the peer of {@code channel} is bound to, in Ferry's form: a TCP peer's IP address
   * and port, or the path or abstract name a Unix peer bound to. Empty for a Unix peer that bound
   * no name (the usual client), where CPython reports an empty string.
   *
   * @throws IOException if the socket is closed or the address cannot be read
   */
  public static Optional<Address> peerAddress(SocketChannel channel) throws IOException {
    SocketAddress remote = channel.getRemoteAddress();
    if (remote instanceof InetSocketAddress inet) {
      return Optional.of(new Address.Tcp(inet.getAddress().getHostAddress(), inet.getPort()));
    }
    if (remote instanceof AFUNIXSocketAddress unix && unix.getPathAsBytes().length > 0) {
      if (unix.isInAbstractNamespace()) {
        return Optional.of(new Address.Abstract(abstractName(unix.getPathAsBytes())));
      }
      return Optional.of(new Address.Unix(Path.of(unix.getPath())));
    }
    return Optional.empty();
  }

  /** An abstract address's name: its bytes after the leading NUL. */
  private static String abstractName(byte[] path) {
    return new String(path, 1, path.length - 1, StandardCharsets.UTF_8);
  }

  /** Sets the per-connection options an accepted channel needs. */
  public static void configureAccepted(SocketChannel channel) throws IOException {
    if (!(channel instanceof AFUNIXSocketChannel)) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
  }
}
