package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ferry over TLS against CPython 3.13's stdlib {@code ssl}, mutual TLS with the HMAC handshake of
 * {@code multiprocessing.connection} on top, both directions. CPython's module has no TLS:
 * {@code tls_peer.py} runs its {@code answer_challenge} and {@code deliver_challenge} over a small
 * adapter with {@code send_bytes} and {@code recv_bytes} on an ssl socket.
 */
@ExtendWith(LeakCheck.class)
class PythonTlsInteropTest {
  private static final String VERSION = "3.13";
  private static Path script;

  @BeforeAll
  static void writeScript() throws IOException {
    plainPeer = Pythons.script("/python/peer.py"); // tls_peer.py imports it
    script = Pythons.script("/python/tls_peer.py");
  }

  @AfterAll
  static void removeScript() throws IOException {
    Files.deleteIfExists(script);
    Files.deleteIfExists(plainPeer);
  }

  private static Path plainPeer;

  /** For a Python client, which takes them in hex in one environment variable (128 KiB at most). */
  private static final List<byte[]> MESSAGES = messages(60_000);

  private static List<byte[]> messages(int bigSize) {
    byte[] big = new byte[bigSize];
    new Random(1).nextBytes(big);
    return List.of("hello".getBytes(StandardCharsets.UTF_8), new byte[0], big);
  }

  private static Process start(String mode, Address address, AuthKey key, List<byte[]> messages)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(Pythons.require(VERSION).toString(), script.toString(),
        mode, address.toString()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.remove("FERRY_KEY");
    env.put("FERRY_EXAMPLES", Path.of("..", "examples", "python").toAbsolutePath().toString());
    if (key != null) env.put("FERRY_KEY", key.toHex());
    Path[] mine = mode.equals("server")
        ? TestTls.serverCertificateAndKeyPem() : TestTls.clientCertificateAndKeyPem();
    Path[] theirs = mode.equals("server")
        ? TestTls.clientCertificateAndKeyPem() : TestTls.serverCertificateAndKeyPem();
    env.put("FERRY_CA", theirs[0].toString());
    env.put("FERRY_CERT", mine[0].toString());
    env.put("FERRY_CERT_KEY", mine[1].toString());
    List<String> hex = new ArrayList<>();
    for (byte[] m : messages) hex.add(m.length == 0 ? "empty" : HexFormat.of().formatHex(m));
    env.put("FERRY_MESSAGES", String.join(",", hex));
    return pb.start();
  }



  private static ConnectionOptions server(AuthKey key) {
    return ConnectionOptions.builder().tls(TestTls.server()).requireClientCertificate()
        .authKey(key).handshakeTimeout(Duration.ofSeconds(20)).build();
  }


  @Test
  void pythonClientOverMutualTlsWithKeyTalksToFerryListener() throws Exception {
    AuthKey key = AuthKey.random();
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0), server(key))) {
      Process python = start("client", listener.address(), key, MESSAGES);
      try {
        BlockingQueue<String> out = Pythons.output(python);
        try (Connection c = listener.accept(Duration.ofSeconds(30))) {
          PythonInteropTest.echoUntilEof(c);
        }
        for (byte[] m : MESSAGES) assertEquals("reply " + HexFormat.of().formatHex(m), Pythons.line(out));
        assertEquals("done", Pythons.line(out));
        assertEquals(0, Pythons.exit(python));
      } finally {
        python.destroyForcibly();
      }
    }
  }

  @Test
  void pythonClientWithWrongKeyIsRefusedInsideTls() throws Exception {
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0),
        server(AuthKey.random()))) {
      Process python = start("client", listener.address(), AuthKey.random(), MESSAGES);
      try {
        BlockingQueue<String> out = Pythons.output(python);
        AuthenticationException e = assertThrows(AuthenticationException.class,
            () -> listener.accept(Duration.ofSeconds(30)));
        assertEquals("digest received was wrong", e.getMessage());
        assertEquals("error AuthenticationError: digest sent was rejected", Pythons.line(out));
        assertEquals(1, Pythons.exit(python));
      } finally {
        python.destroyForcibly();
      }
    }
  }

  @Test
  void ferryClientOverMutualTlsWithKeyTalksToPythonServer() throws Exception {
    AuthKey key = AuthKey.random();
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Address address = new Address.Tcp("127.0.0.1", port);
    Process python = start("server", address, key, List.of());
    try {
      BlockingQueue<String> out = Pythons.output(python);
      assertEquals("ready", Pythons.line(out));
      ConnectionOptions options = ConnectionOptions.builder().tls(TestTls.client()).authKey(key)
          .handshakeTimeout(Duration.ofSeconds(20)).build();
      try (Connection c = Client.connect(address, options)) {
        for (byte[] m : messages(1 << 20)) {
          c.sendBytes(m);
          assertArrayEquals(m, c.receiveBytes());
        }
        assertTrue(c.isReadable());
      }
      assertEquals("done", Pythons.line(out));
      assertEquals(0, Pythons.exit(python));
    } finally {
      python.destroyForcibly();
    }
  }

  @Test
  void theReadmeExampleClientTalksToFerryListener() throws Exception {
    Path example = Path.of("..", "examples", "python", "tls_client.py");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(example), "run from ferry-core");
    AuthKey key = AuthKey.random();
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0), server(key))) {
      Path[] client = TestTls.clientCertificateAndKeyPem();
      ProcessBuilder pb = new ProcessBuilder(Pythons.require(VERSION).toString(),
          example.toString(), listener.address().toString(),
          TestTls.serverCertificateAndKeyPem()[0].toString(), client[0].toString(),
          client[1].toString()).redirectErrorStream(true);
      pb.environment().put("FERRY_AUTHKEY", key.toHex());
      Process python = pb.start();
      try {
        BlockingQueue<String> out = Pythons.output(python);
        try (Connection c = listener.accept(Duration.ofSeconds(30))) {
          PythonInteropTest.echoUntilEof(c);
        }
        assertEquals("ok", Pythons.line(out));
        assertEquals(0, Pythons.exit(python));
      } finally {
        python.destroyForcibly();
      }
    }
  }
}
