package dev.ferry.internal.transport;

import dev.ferry.Address;
import java.io.IOException;
import java.net.ConnectException;
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
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.time.Duration;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

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
      server = ServerSocketChannel.open(inet.getAddress() instanceof java.net.Inet6Address
          ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
      server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    } else {
      if (address instanceof Address.Unix unix
          && Files.exists(unix.path(), LinkOption.NOFOLLOW_LINKS)) {
        // junixsocket would replace the file; CPython fails instead, and so do we: it may be live.
        throw new java.net.BindException("address already in use: " + address);
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
      if (e instanceof java.net.BindException) {
        throw new java.net.BindException("address already in use: " + address);
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

  /** Connects a non-blocking channel to {@code address}, waiting at most {@code timeout}. */
  public static SocketChannel connect(Address address, Duration timeout) throws IOException {
    SocketAddress socketAddress = socketAddress(address);
    if (address instanceof Address.Unix unix && !Files.exists(unix.path())) {
      throw new ConnectException("no such socket file: " + address);
    }
    SocketChannel channel = address instanceof Address.Tcp
        ? SocketChannel.open() : AFUNIXSocketChannel.open();
    try {
      channel.configureBlocking(false);
      if (address instanceof Address.Tcp) channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      if (!channel.connect(socketAddress)) awaitConnect(channel, address, timeout);
      return channel;
    } catch (SocketTimeoutException e) {
      channel.close();
      throw e;
    } catch (IOException e) {
      channel.close();
      String reason = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
      if (e.getMessage() != null && e.getMessage().contains(address.toString())) throw e;
      if (reason.contains("refused")) throw new ConnectException("connection refused: " + address);
      if (reason.contains("no such file")) throw new ConnectException("no such socket file: " + address);
      throw new ConnectException("cannot connect to " + address + ": " + e.getMessage());
    } catch (RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  private static void awaitConnect(SocketChannel channel, Address address, Duration timeout)
      throws IOException {
    long deadline = Deadlines.after(timeout);
    try (Selector selector = channel.provider().openSelector()) {
      channel.register(selector, SelectionKey.OP_CONNECT);
      while (!channel.finishConnect()) {
        long millis = Deadlines.selectMillis(deadline);
        if (millis < 0) {
          throw new SocketTimeoutException("connect timed out after " + timeout.toMillis()
              + " ms: " + address);
        }
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
  public static java.util.Optional<dev.ferry.PeerCredentials> peerCredentials(SocketChannel channel)
      throws IOException {
    if (!(channel instanceof AFUNIXSocketChannel unix)) return java.util.Optional.empty();
    org.newsclub.net.unix.AFUNIXSocketCredentials c = unix.getPeerCredentials();
    if (c == null || c.isEmpty()) return java.util.Optional.empty();
    return java.util.Optional.of(new dev.ferry.PeerCredentials(c.getPid(), c.getUid(), c.getGid()));
  }

  /** Sets the per-connection options an accepted channel needs. */
  public static void configureAccepted(SocketChannel channel) throws IOException {
    if (!(channel instanceof AFUNIXSocketChannel)) {
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
  }
}
