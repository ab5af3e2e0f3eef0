package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** connectAsync and acceptAsync: the handshake on both sides without a blocked thread. */
@ExtendWith(LeakCheck.class)
class AsyncConnectTest {
  private static final AuthKey KEY = AuthKey.of("secret".getBytes(UTF_8));

  @TempDir Path dir;

  private static ConnectionOptions keyed(AuthKey key) {
    return ConnectionOptions.builder().authKey(key).handshakeTimeout(Duration.ofSeconds(10)).build();
  }

  private Address address(String kind) {
    switch (kind) {
      case "unix":
        return new Address.Unix(dir.resolve("s"));
      case "abstract":
        return new Address.Abstract("ferry-async-" + UUID.randomUUID());
      case "tcp6":
        return new Address.Tcp("::1", 0);
      default:
        return new Address.Tcp("127.0.0.1", 0);
    }
  }

  private static Throwable cause(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
    return e.getCause();
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "abstract", "tcp", "tcp6"})
  void connectsAndAcceptsAsynchronouslyWithTheHandshake(String kind) throws Exception {
    try (EventLoops loops = EventLoops.open();
        Listener listener = Listener.bind(address(kind), keyed(KEY))) {
      CompletableFuture<Connection> accepted = listener.acceptAsync();
      AsyncConnection client = Client.connectAsync(listener.address(), keyed(KEY), loops)
          .get(20, TimeUnit.SECONDS);
      AsyncConnection server = AsyncConnection.of(accepted.get(20, TimeUnit.SECONDS), loops);
      client.sendAsync("ping".getBytes(UTF_8));
      assertArrayEquals("ping".getBytes(UTF_8), server.receiveAsync().get(20, TimeUnit.SECONDS));
      client.close();
      server.close();
    }
  }

  @Test
  void asyncClientTalksToABlockingServerAndBack() throws Exception {
    try (EventLoops loops = EventLoops.open();
        Listener listener = Listener.bind(address("tcp"), keyed(KEY))) {
      CompletableFuture<AsyncConnection> client = Client.connectAsync(listener.address(), keyed(KEY), loops);
      try (Connection server = listener.accept(Duration.ofSeconds(20));
          AsyncConnection c = client.get(20, TimeUnit.SECONDS)) {
        server.sendBytes(new byte[] {4, 2});
        assertArrayEquals(new byte[] {4, 2}, c.receiveAsync().get(20, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void wrongKeyFailsBothSidesWithCPythonsMessages() throws Exception {
    try (EventLoops loops = EventLoops.open();
        Listener listener = Listener.bind(address("unix"), keyed(KEY))) {
      CompletableFuture<Connection> accepted = listener.acceptAsync();
      Throwable client = cause(Client.connectAsync(listener.address(),
          keyed(AuthKey.of("wrong".getBytes(UTF_8))), loops));
      assertInstanceOf(AuthenticationException.class, client);
      assertEquals("digest sent was rejected", client.getMessage());
      Throwable server = cause(accepted);
      assertInstanceOf(AuthenticationException.class, server);
      assertEquals("digest received was wrong", server.getMessage());
    }
  }

  @Test
  void silentServerTimesOutTheHandshake() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().authKey(KEY)
        .handshakeTimeout(Duration.ofMillis(200)).build();
    try (EventLoops loops = EventLoops.open();
        Listener silent = Listener.bind(address("unix"))) { // no key: it never challenges
      CompletableFuture<Connection> accepted = silent.acceptAsync();
      Throwable t = cause(Client.connectAsync(silent.address(), options, loops));
      assertInstanceOf(SocketTimeoutException.class, t);
      assertEquals("handshake timed out after 200 ms with " + silent.address(), t.getMessage());
      accepted.get(20, TimeUnit.SECONDS).close();
    }
  }

  @Test
  void refusedConnectionsNameTheAddress() throws Exception {
    try (EventLoops loops = EventLoops.open()) {
      Address missing = new Address.Unix(dir.resolve("nobody"));
      Throwable t = cause(Client.connectAsync(missing, ConnectionOptions.defaults(), loops));
      assertInstanceOf(ConnectException.class, t);
      assertEquals("no such socket file: " + missing, t.getMessage());
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Address closed = new Address.Tcp("127.0.0.1", port);
      t = cause(Client.connectAsync(closed, ConnectionOptions.defaults(), loops));
      assertInstanceOf(ConnectException.class, t);
      assertEquals("connection refused: " + closed, t.getMessage());
      assertTrue(Files.notExists(dir.resolve("nobody")));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp", "tls"})
  void cancellingAConnectClosesWhatItOpened(String kind) throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().authKey(KEY)
        .handshakeTimeout(Duration.ofSeconds(60)).build();
    if (kind.equals("tls")) options = TestTls.clientOptions(options);
    // No key and no TLS: it never challenges, nor answers a TLS hello.
    try (EventLoops loops = EventLoops.open();
        Listener silent = Listener.bind(address(kind.equals("tls") ? "tcp" : kind))) {
      CompletableFuture<AsyncConnection> connecting = Client.connectAsync(silent.address(), options, loops);
      assertTrue(connecting.cancel(false));
      try (Connection server = silent.accept(Duration.ofSeconds(20))) {
        assertTrue(server.poll(Duration.ofSeconds(20)), "the client end is closed");
        assertThrows(EOFException.class, server::receiveBytes);
      }
    }
  }

  @Test
  void aConnectThatTimesOutFromOutsideClosesWhatItOpened() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().authKey(KEY)
        .handshakeTimeout(Duration.ofSeconds(60)).build();
    try (EventLoops loops = EventLoops.open();
        Listener silent = Listener.bind(address("unix"))) { // no key: it never challenges
      CompletableFuture<AsyncConnection> connecting = Client.connectAsync(silent.address(), options, loops)
          .orTimeout(50, TimeUnit.MILLISECONDS);
      try (Connection server = silent.accept(Duration.ofSeconds(20))) {
        assertInstanceOf(TimeoutException.class, cause(connecting));
        assertTrue(server.poll(Duration.ofSeconds(20)), "the client end is closed");
        assertThrows(EOFException.class, server::receiveBytes);
      }
    }
  }

  @Test
  void connectingOnClosedLoopsFailsAndLeavesNothingOpen() throws Exception {
    EventLoops loops = EventLoops.open();
    loops.close();
    for (String kind : List.of("tcp", "unix")) {
      try (Listener listener = Listener.bind(address(kind))) {
        Throwable t = cause(Client.connectAsync(listener.address(), ConnectionOptions.defaults(), loops));
        assertInstanceOf(IllegalStateException.class, t);
        assertEquals("event loops are closed", t.getMessage());
      }
    }
  }

  @Test
  void acceptAsyncFailsOnceTheListenerCloses() throws Exception {
    Listener listener = Listener.bind(address("tcp"));
    CompletableFuture<Connection> first = listener.acceptAsync();
    CompletableFuture<Connection> cancelled = listener.acceptAsync();
    cancelled.cancel(false);
    listener.close();
    assertInstanceOf(ConnectionClosedException.class, cause(first));
    assertInstanceOf(ConnectionClosedException.class, cause(listener.acceptAsync()));
  }

  @Test
  void acceptAsyncAndAcceptShareOneQueue() throws Exception {
    try (Listener listener = Listener.bind(address("abstract"));
        Connection a = Client.connect(listener.address());
        Connection b = Client.connect(listener.address());
        Connection first = listener.accept(Duration.ofSeconds(20));
        Connection second = listener.acceptAsync().get(20, TimeUnit.SECONDS)) {
      a.sendBytes(new byte[] {1});
      b.sendBytes(new byte[] {1});
      assertEquals(1, first.receiveBytes().length);
      assertEquals(1, second.receiveBytes().length);
    }
  }
}
