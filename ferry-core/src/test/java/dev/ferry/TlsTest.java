package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.async.AsyncConnection;
import dev.ferry.async.EventLoops;
import dev.ferry.handle.Handles;
import dev.ferry.handle.Ownership;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS for TCP: certificates both ways, the HMAC handshake inside TLS, peers that speak no TLS or
 * cut the stream, and readiness of bytes that wait decrypted inside the connection.
 */
@ExtendWith(LeakCheck.class)
@Timeout(120)
class TlsTest {
  private static final AuthKey KEY = AuthKey.of("secret".getBytes(UTF_8));
  private static final Address LOOPBACK = new Address.Tcp("127.0.0.1", 0);

  @TempDir Path dir;

  private static ConnectionOptions server() {
    return ConnectionOptions.builder().tls(TestTls.server())
        .handshakeTimeout(Duration.ofSeconds(10)).build();
  }

  private static ConnectionOptions client(SSLContext context) {
    return ConnectionOptions.builder().tls(context).handshakeTimeout(Duration.ofSeconds(10)).build();
  }

  private static CompletableFuture<Connection> acceptLater(Listener listener) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return listener.accept(Duration.ofSeconds(20));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  private static Throwable failure(CompletableFuture<?> f) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
    Throwable cause = e.getCause();
    return cause instanceof java.io.UncheckedIOException u ? u.getCause() : cause;
  }

  private static void assertEchoes(Connection a, Connection b) throws IOException {
    a.sendBytes("ping".getBytes(UTF_8));
    assertEquals("ping", new String(b.receiveBytes(), UTF_8));
    b.sendBytes("pong".getBytes(UTF_8));
    assertEquals("pong", new String(a.receiveBytes(), UTF_8));
  }

  @Test
  void mutualTlsAcceptsClientWithTrustedCertificate() throws Exception {
    ConnectionOptions options = server().toBuilder().requireClientCertificate().build();
    try (Listener listener = Listener.bind(LOOPBACK, options)) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(), client(TestTls.client()));
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        assertEchoes(c, s);
      }
    }
  }

  @Test
  void mutualTlsRefusesClientWithoutCertificateOrWithAStrangersAndServesTheNext()
      throws Exception {
    ConnectionOptions options = server().toBuilder().requireClientCertificate().build();
    try (Listener listener = Listener.bind(LOOPBACK, options)) {
      for (SSLContext refused : List.of(TestTls.anonymousClient(), TestTls.strangerClient())) {
        CompletableFuture<Connection> accepted = acceptLater(listener);
        // TLS 1.3: the client finishes first and learns of the refusal when it reads.
        try (Connection c = Client.connect(listener.address(), client(refused))) {
          TlsHandshakeException e = assertInstanceOf(TlsHandshakeException.class,
              failure(accepted));
          assertTrue(e.getMessage().startsWith("tls handshake on " + listener.address()
              + " failed: "), e.getMessage());
          assertThrows(IOException.class, c::receiveBytes);
        } catch (TlsHandshakeException clientSide) {
          // TLS 1.2 tells the client during the handshake.
          assertInstanceOf(TlsHandshakeException.class, failure(accepted));
        }
      }
      CompletableFuture<Connection> accepted = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(), client(TestTls.client()));
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        assertEchoes(c, s);
      }
    }
  }

  @Test
  void clientRefusesServerWhoseCertificateItDoesNotTrust() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server())) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      TlsHandshakeException e = assertThrows(TlsHandshakeException.class,
          () -> Client.connect(listener.address(), client(TestTls.distrustfulClient())));
      assertTrue(e.getMessage().startsWith("tls handshake with " + listener.address()
          + " failed: "), e.getMessage());
      assertInstanceOf(javax.net.ssl.SSLException.class, e.getCause());
      assertInstanceOf(TlsHandshakeException.class, failure(accepted));
    }
  }

  @Test
  void clientChecksTheServerNameInTheCertificate() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server())) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      ConnectionOptions wrongName = client(TestTls.client()).toBuilder()
          .tlsServerName("ferry.example").build();
      TlsHandshakeException e = assertThrows(TlsHandshakeException.class,
          () -> Client.connect(listener.address(), wrongName));
      assertTrue(e.getMessage().contains("ferry.example"), e.getMessage());
      failure(accepted);
      accepted = acceptLater(listener);
      ConnectionOptions rightName = client(TestTls.client()).toBuilder()
          .tlsServerName("localhost").build();
      try (Connection c = Client.connect(listener.address(), rightName);
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        assertEchoes(c, s);
      }
    }
  }

  @Test
  void hmacHandshakeRunsInsideTlsWithTheRightKey() throws Exception {
    ConnectionOptions options = server().toBuilder().authKey(KEY).build();
    try (Listener listener = Listener.bind(LOOPBACK, options)) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(),
              client(TestTls.client()).toBuilder().authKey(KEY).build());
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        assertEchoes(c, s);
      }
    }
  }

  @Test
  void hmacHandshakeInsideTlsRefusesTheWrongKey() throws Exception {
    ConnectionOptions options = server().toBuilder().authKey(KEY).build();
    try (Listener listener = Listener.bind(LOOPBACK, options)) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      AuthenticationException e = assertThrows(AuthenticationException.class,
          () -> Client.connect(listener.address(), client(TestTls.client()).toBuilder()
              .authKey(AuthKey.of("wrong".getBytes(UTF_8))).build()));
      assertEquals("digest sent was rejected", e.getMessage());
      Throwable serverSide = failure(accepted);
      assertInstanceOf(AuthenticationException.class, serverSide);
      assertEquals("digest received was wrong", serverSide.getMessage());
    }
  }

  @Test
  void plaintextClientIsDroppedAndAGoodClientStillGetsIn() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server())) {
      Address.Tcp tcp = (Address.Tcp) listener.address();
      CompletableFuture<Connection> accepted = acceptLater(listener);
      try (Socket plain = new Socket(tcp.host(), tcp.port())) {
        DataOutputStream out = new DataOutputStream(plain.getOutputStream());
        out.writeInt(5);
        out.write("hello".getBytes(UTF_8));
        out.flush();
        TlsHandshakeException e = assertInstanceOf(TlsHandshakeException.class, failure(accepted));
        assertTrue(e.getMessage().startsWith("tls handshake on " + listener.address()), e.getMessage());
        byte[] alert = plain.getInputStream().readAllBytes(); // then dropped
        assertTrue(alert.length < 64 && (alert.length == 0 || alert[0] == 21), // 21: an alert
            java.util.Arrays.toString(alert));
      } catch (java.net.SocketException reset) {
        // The server's close may reset the connection before the read sees the end.
      }
      accepted = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(), client(TestTls.client()));
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        assertEchoes(c, s);
      }
    }
  }

  /**
   * Issue 8's hostile crowd against a TLS listener: silent clients, clients that send garbage, and
   * clients that stall inside a TLS record, all connected at once. A good client still gets through
   * TLS and the HMAC handshake and echoes, long before the crowd's handshakes time out: the TLS step
   * runs in the accept loop without blocking, like the HMAC one.
   */
  @Test
  void aCrowdOfSilentGarbageAndStalledClientsDoesNotKeepAGoodTlsClientOut() throws Exception {
    Duration timeout = Duration.ofSeconds(30);
    ConnectionOptions serverOptions = ConnectionOptions.builder().tls(TestTls.server())
        .requireClientCertificate().authKey(KEY).handshakeTimeout(timeout).build();
    ConnectionOptions clientOptions = ConnectionOptions.builder().tls(TestTls.client())
        .authKey(KEY).handshakeTimeout(timeout).build();
    List<Socket> crowd = new java.util.ArrayList<>();
    try (Listener listener = Listener.bind(LOOPBACK, serverOptions)) {
      Address.Tcp tcp = (Address.Tcp) listener.address();
      Random random = new Random(8);
      for (int i = 0; i < 300; i++) {
        Socket s = new Socket(tcp.host(), tcp.port());
        crowd.add(s);
        OutputStream out = s.getOutputStream();
        switch (i % 3) {
          case 0 -> { } // silent
          case 1 -> { // garbage: answered with an alert, then dropped
            byte[] junk = new byte[64];
            random.nextBytes(junk);
            out.write(junk);
          }
          default -> out.write(new byte[] {22, 3, 3, 0x40, 0}); // a handshake record, then nothing
        }
        out.flush();
      }
      long started = System.nanoTime();
      CompletableFuture<Connection> accepted = CompletableFuture.supplyAsync(() -> {
        while (true) {
          try {
            return listener.accept(Duration.ofSeconds(20));
          } catch (SocketTimeoutException e) {
            throw new java.io.UncheckedIOException(e);
          } catch (IOException garbage) {
            // A garbage client's failed handshake: the next result.
          }
        }
      });
      try (Connection c = Client.connect(listener.address(), clientOptions);
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        assertEchoes(c, s);
      }
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      assertTrue(took.compareTo(timeout.dividedBy(2)) < 0,
          "the good client waited " + took.toMillis() + " ms: for the crowd's timeouts?");
    } finally {
      for (Socket s : crowd) s.close();
    }
  }

  @Test
  void plaintextHmacClientIsDroppedAtTheHandshakeTimeout() throws Exception {
    ConnectionOptions options = server().toBuilder().authKey(KEY)
        .handshakeTimeout(Duration.ofMillis(200)).build();
    try (Listener listener = Listener.bind(LOOPBACK, options)) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      // Each waits for the other to speak first: TLS for a client hello, HMAC for a challenge.
      // The listener gives up first and closes, which ends the client's wait.
      assertThrows(IOException.class, () -> Client.connect(listener.address(),
          ConnectionOptions.builder().authKey(KEY).handshakeTimeout(Duration.ofSeconds(20)).build()));
      SocketTimeoutException e = assertInstanceOf(SocketTimeoutException.class, failure(accepted));
      assertEquals("handshake timed out after 200 ms on " + listener.address(), e.getMessage());
    }
  }

  @Test
  void tlsClientAgainstPlaintextHmacListenerFails() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK,
        ConnectionOptions.builder().authKey(KEY).build())) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      // The listener's challenge is no TLS record.
      assertThrows(TlsHandshakeException.class, () -> Client.connect(listener.address(),
          client(TestTls.client()).toBuilder().authKey(KEY).build()));
      assertInstanceOf(IOException.class, failure(accepted));
    }
  }

  @Test
  void carriesOneAndSixteenMebibyteMessagesBothWays() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server().toBuilder().authKey(KEY).build())) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(),
              client(TestTls.client()).toBuilder().authKey(KEY).build());
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        Random random = new Random(8);
        for (int size : new int[] {1 << 20, 16 << 20}) {
          byte[] message = new byte[size];
          random.nextBytes(message);
          CompletableFuture<Void> sent = sendLater(c, message);
          assertArrayEquals(message, s.receiveBytes());
          sent.get(20, TimeUnit.SECONDS);
          sent = sendLater(s, message);
          assertArrayEquals(message, c.receiveBytes());
          sent.get(20, TimeUnit.SECONDS);
        }
      }
    }
  }

  private static CompletableFuture<Void> sendLater(Connection c, byte[] message) {
    return CompletableFuture.runAsync(() -> {
      try {
        c.sendBytes(message);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  @Test
  void waitAndPollSeeMessagesAlreadyDecryptedInsideTheConnection() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server())) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(), client(TestTls.client()));
          Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        for (int round = 0; round < 20; round++) {
          // A large message, then small ones, all in the receiver's socket buffer before it reads:
          // reading the large one reads the small ones' records too, which only the connection
          // knows of then.
          byte[] large = new byte[200_000 + round * 1_000];
          c.sendBytes(large);
          for (int i = 0; i < 3; i++) c.sendBytes(new byte[] {(byte) i});
          assertEquals(large.length, s.receiveBytes().length);
          for (int i = 0; i < 3; i++) {
            assertEquals(List.of(s), Wait.ready(List.of(s), Duration.ofSeconds(10)));
            assertTrue(s.poll(Duration.ZERO));
            assertArrayEquals(new byte[] {(byte) i}, s.receiveBytes());
          }
          assertFalse(s.poll(Duration.ZERO));
        }
      }
    }
  }

  @Test
  void closeNotifyAtAMessageBoundaryIsEndOfStream() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server());
        Connection s = openJdkSocketAndSend(listener, false, true)) {
      assertEquals("last", new String(s.receiveBytes(), UTF_8));
      assertThrows(EOFException.class, s::receiveBytes);
    }
  }

  @Test
  void tcpCutWithoutCloseNotifyAtAMessageBoundaryIsEndOfStream() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server());
        Connection s = openJdkSocketAndSend(listener, false, false)) {
      assertEquals("last", new String(s.receiveBytes(), UTF_8));
      assertThrows(EOFException.class, s::receiveBytes);
    }
  }

  @Test
  void tcpCutInsideAMessageIsATruncatedMessage() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server());
        Connection s = openJdkSocketAndSend(listener, true, false)) {
      assertEquals("last", new String(s.receiveBytes(), UTF_8));
      FramingException e = assertThrows(FramingException.class, s::receiveBytes);
      assertEquals("got end of file during message", e.getMessage());
    }
  }

  /**
   * A JDK SSLSocket client over a plain socket sends "last", and with {@code halfMessage} the
   * header of a longer message with only part of it; then it closes TLS properly
   * ({@code closeNotify}) or cuts the TCP connection under it. Returns the accepted end.
   */
  private static Connection openJdkSocketAndSend(Listener listener, boolean halfMessage,
      boolean closeNotify) throws Exception {
    Address.Tcp tcp = (Address.Tcp) listener.address();
    try (Socket plain = new Socket(tcp.host(), tcp.port())) {
      SSLSocket tls = (SSLSocket) TestTls.client().getSocketFactory()
          .createSocket(plain, "localhost", tcp.port(), false);
      tls.startHandshake();
      Connection accepted = listener.accept(Duration.ofSeconds(20));
      OutputStream out = tls.getOutputStream();
      DataOutputStream data = new DataOutputStream(out);
      data.writeInt(4);
      data.write("last".getBytes(UTF_8));
      if (halfMessage) {
        data.writeInt(100);
        data.write(new byte[10]);
      }
      data.flush();
      if (closeNotify) tls.close();
      // Else the plain socket closes under TLS: a TCP end with no close_notify.
      return accepted;
    }
  }

  @Test
  void connectAsyncRunsTlsThenHmacWithoutBlocking() throws Exception {
    ConnectionOptions options = server().toBuilder().authKey(KEY).build();
    try (EventLoops loops = EventLoops.open(); Listener listener = Listener.bind(LOOPBACK, options)) {
      CompletableFuture<Connection> accepted = listener.acceptAsync();
      AsyncConnection c = Client.connectAsync(listener.address(),
          client(TestTls.client()).toBuilder().authKey(KEY).build(), loops).get(20, TimeUnit.SECONDS);
      try (Connection s = accepted.get(20, TimeUnit.SECONDS)) {
        c.sendAsync("ping".getBytes(UTF_8)).get(20, TimeUnit.SECONDS);
        assertEquals("ping", new String(s.receiveBytes(), UTF_8));
        byte[] large = new byte[3 << 20];
        new Random(3).nextBytes(large);
        CompletableFuture<Void> sent = sendLater(s, large);
        assertArrayEquals(large, c.receiveAsync().get(20, TimeUnit.SECONDS));
        sent.get(20, TimeUnit.SECONDS);
        sent = c.sendAsync(large);
        assertArrayEquals(large, s.receiveBytes());
        sent.get(20, TimeUnit.SECONDS);
      } finally {
        c.close();
      }
    }
  }

  @Test
  void connectAsyncFailsWithTlsHandshakeExceptionForAnUntrustedServer() throws Exception {
    try (EventLoops loops = EventLoops.open(); Listener listener = Listener.bind(LOOPBACK, server())) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      Throwable e = failure(Client.connectAsync(listener.address(),
          client(TestTls.distrustfulClient()), loops));
      assertInstanceOf(TlsHandshakeException.class, e);
      assertTrue(e.getMessage().startsWith("tls handshake with " + listener.address()),
          e.getMessage());
      failure(accepted);
    }
  }

  @Test
  void refusesTlsOnUnixSocketsAndPipesNamingTheAddress() throws Exception {
    ConnectionOptions options = server();
    Address unix = new Address.Unix(dir.resolve("s"));
    IllegalArgumentException bind = assertThrows(IllegalArgumentException.class,
        () -> Listener.bind(unix, options));
    assertTrue(bind.getMessage().startsWith("tls needs a tcp address, and " + unix
        + " is a unix socket"), bind.getMessage());
    IllegalArgumentException connect = assertThrows(IllegalArgumentException.class,
        () -> Client.connect(new Address.Abstract("ferry-tls"), options));
    assertTrue(connect.getMessage().startsWith("tls needs a tcp address, and unix:@ferry-tls"),
        connect.getMessage());
    IllegalArgumentException pipe = assertThrows(IllegalArgumentException.class,
        () -> Pipe.duplex(options));
    assertTrue(pipe.getMessage().startsWith("tls needs a tcp address, and a pipe"),
        pipe.getMessage());
  }

  @Test
  void tlsOrAKeyLetsAListenerBindANetworkAddress() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Listener.bind(Address.parse("tcp:0.0.0.0:0")));
    assertTrue(e.getMessage().startsWith(
        "refusing to listen on tcp:0.0.0.0:0 without an authkey or tls: "), e.getMessage());
    try (Listener tls = Listener.bind(Address.parse("tcp:0.0.0.0:0"), server());
        Listener keyed = Listener.bind(Address.parse("tcp:0.0.0.0:0"),
            ConnectionOptions.builder().authKey(KEY).build())) {
      assertTrue(((Address.Tcp) tls.address()).port() > 0);
      assertTrue(((Address.Tcp) keyed.address()).port() > 0);
    }
  }

  @Test
  void optionsThatNeedTlsRefuseToBuildWithoutIt() {
    IllegalArgumentException mutual = assertThrows(IllegalArgumentException.class,
        () -> ConnectionOptions.builder().requireClientCertificate().build());
    assertEquals("requireClientCertificate needs tls(SSLContext)", mutual.getMessage());
    IllegalArgumentException name = assertThrows(IllegalArgumentException.class,
        () -> ConnectionOptions.builder().tlsServerName("example.org").build());
    assertEquals("tlsServerName example.org needs tls(SSLContext)", name.getMessage());
  }

  @Test
  void refusesToPassDescriptorsOverTls() throws Exception {
    try (Listener listener = Listener.bind(LOOPBACK, server())) {
      CompletableFuture<Connection> accepted = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(), client(TestTls.client()));
          Connection s = accepted.get(20, TimeUnit.SECONDS);
          Pipe.Duplex pipe = Pipe.duplex()) {
        IllegalArgumentException over = assertThrows(IllegalArgumentException.class,
            () -> Handles.sendConnection(c, pipe.first(), Ownership.DUPLICATE));
        assertTrue(over.getMessage().endsWith("only unix socket connections carry them"),
            over.getMessage());
        assertThrows(IllegalArgumentException.class,
            () -> Handles.sendConnection(pipe.first(), c, Ownership.DUPLICATE));
        assertEchoes(c, s);
      }
    }
  }
}
