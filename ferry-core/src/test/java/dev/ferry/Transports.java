package dev.ferry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Every transport, as a way to make a connected pair for the contract suites: what {@code left}
 * sends, {@code right} receives. All but the one-way pipe are duplex both ways.
 */
enum Transports {
  SOCKET_PAIR,
  ONE_WAY_PIPE,
  UNIX_PATH,
  ABSTRACT_NAME,
  TCP_V4,
  TCP_V6,
  /** TCP over IPv4 with TLS, certificates from {@link TestTls}; the client shows one too. */
  TCP_TLS,
  /** A duplex pipe whose ends talk through a shared-memory lane (docs/LANE.md). */
  LANE_PIPE,
  /** A Unix path listener and client that agree on a lane inside the HMAC handshake. */
  LANE_UNIX,
  /** The same without a key: the client offers blindly, the listener looks at its first bytes. */
  LANE_UNIX_KEYLESS;

  /**
   * The default ring (1 MiB): some contract tests send a few hundred kilobytes before the peer
   * reads, which a socket's buffers hold too. LaneTest streams through small rings.
   */
  static final SharedMemoryLane LANE = SharedMemoryLane.defaults();

  /** A connected pair and whatever else must be closed with it. */
  record Pair(Sender left, Receiver right, java.io.Closeable extra) implements AutoCloseable {
    /** The left end as a duplex connection; only for duplex transports. */
    Connection leftConnection() {
      return (Connection) left;
    }

    /** The right end as a duplex connection; only for duplex transports. */
    Connection rightConnection() {
      return (Connection) right;
    }

    @Override
    public void close() throws IOException {
      try {
        left.close();
        right.close();
      } finally {
        extra.close();
      }
    }
  }

  Pair open(ConnectionOptions options) throws IOException {
    if (this == ONE_WAY_PIPE) {
      Pipe.OneWay pipe = Pipe.oneWay(options);
      return new Pair(pipe.writer(), pipe.reader(), () -> {});
    }
    if (this == LANE_PIPE) {
      Pipe.Duplex pipe = Pipe.duplex(options.toBuilder().sharedMemoryLane(LANE).build());
      return new Pair(pipe.first(), pipe.second(), () -> {});
    }
    if (this == SOCKET_PAIR) {
      Pipe.Duplex pipe = Pipe.duplex(options);
      return new Pair(pipe.first(), pipe.second(), () -> {});
    }
    Path dir = null;
    Address address;
    if (this == LANE_UNIX || this == LANE_UNIX_KEYLESS) {
      ConnectionOptions.Builder b = options.toBuilder().sharedMemoryLane(LANE);
      if (this == LANE_UNIX && options.authKey().isEmpty()) {
        b.authKey(AuthKey.of("lane".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
      }
      options = b.build();
    }
    switch (this) {
      case UNIX_PATH:
      case LANE_UNIX:
      case LANE_UNIX_KEYLESS:
        dir = Files.createTempDirectory("ferry-test");
        address = new Address.Unix(dir.resolve("s"));
        break;
      case ABSTRACT_NAME:
        address = new Address.Abstract("ferry-test-" + UUID.randomUUID());
        break;
      case TCP_V4:
      case TCP_TLS:
        address = new Address.Tcp("127.0.0.1", 0);
        break;
      default:
        address = new Address.Tcp("::1", 0);
        break;
    }
    Path tempDir = dir;
    ConnectionOptions serverOptions = this == TCP_TLS ? TestTls.serverOptions(options) : options;
    ConnectionOptions clientOptions = this == TCP_TLS ? TestTls.clientOptions(options) : options;
    Listener listener = Listener.bind(address, serverOptions);
    try {
      var accepted = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return listener.accept(java.time.Duration.ofSeconds(10));
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      Connection client = Client.connect(listener.address(), clientOptions);
      Connection server = accepted.join();
      return new Pair(client, server, () -> {
        listener.close();
        if (tempDir != null) Files.deleteIfExists(tempDir);
      });
    } catch (RuntimeException | IOException e) {
      listener.close();
      throw e;
    }
  }
}
