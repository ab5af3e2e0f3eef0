package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ferry against real CPython 2.7 and 3.13 in both directions: bytes of several sizes, no key, a
 * key, a wrong key; over a Unix path, an abstract name (3.13) and TCP.
 */
@ExtendWith(LeakCheck.class)
class PythonInteropTest {
  private static Path script;
  private static Path dir;

  enum Key { NONE, KEY, WRONG_KEY }

  @BeforeAll
  static void writeScript() throws IOException {
    script = Pythons.script("/python/peer.py");
    dir = Files.createTempDirectory("ferry-interop");
  }

  @AfterAll
  static void removeDir() throws IOException {
    Files.deleteIfExists(script);
    Files.deleteIfExists(dir);
  }

  static Stream<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (String version : List.of("2.7", "3.13")) {
      List<String> families = version.equals("2.7")
          ? List.of("unix", "tcp") : List.of("unix", "abstract", "tcp");
      for (String family : families) {
        for (Key key : Key.values()) cases.add(Arguments.of(version, family, key));
      }
    }
    return cases.stream();
  }

  private static final List<byte[]> MESSAGES = messages();

  private static List<byte[]> messages() {
    byte[] big = new byte[50_000];
    new Random(1).nextBytes(big);
    return List.of("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8), new byte[0], big);
  }

  private Address address(String family) throws IOException {
    switch (family) {
      case "unix":
        return new Address.Unix(dir.resolve("s-" + UUID.randomUUID().toString().substring(0, 8)));
      case "abstract":
        return new Address.Abstract("ferry-interop-" + UUID.randomUUID());
      default:
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
            java.net.InetAddress.getLoopbackAddress())) {
          return new Address.Tcp("127.0.0.1", s.getLocalPort());
        }
    }
  }

  private static Process start(String version, String mode, Address address, AuthKey key,
      List<byte[]> messages) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(Pythons.require(version).toString(), script.toString(),
        mode, address.toString()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.remove("FERRY_KEY");
    if (key != null) env.put("FERRY_KEY", key.toHex());
    List<String> hex = new ArrayList<>();
    for (byte[] m : messages) hex.add(m.length == 0 ? "empty" : HexFormat.of().formatHex(m));
    env.put("FERRY_MESSAGES", String.join(",", hex));
    return pb.start();
  }



  private static ConnectionOptions options(AuthKey key) {
    ConnectionOptions.Builder b = ConnectionOptions.builder().handshakeTimeout(Duration.ofSeconds(20));
    if (key != null) b.authKey(key);
    return b.build();
  }

  @ParameterizedTest(name = "python {0} server, ferry client, {1}, {2}")
  @MethodSource("cases")
  void ferryClientTalksToPythonListener(String version, String family, Key keyCase)
      throws Exception {
    Address address = address(family);
    AuthKey key = keyCase == Key.NONE ? null : AuthKey.random();
    AuthKey clientKey = keyCase == Key.WRONG_KEY ? AuthKey.random() : key;
    Process python = start(version, "server", address, key, List.of());
    try {
      BlockingQueue<String> out = Pythons.output(python);
      assertEquals("ready", Pythons.line(out));
      if (keyCase == Key.WRONG_KEY) {
        AuthenticationException e = assertThrows(AuthenticationException.class,
            () -> Client.connect(address, options(clientKey)));
        assertEquals("digest sent was rejected", e.getMessage());
        assertEquals("error AuthenticationError: digest received was wrong", Pythons.line(out));
      } else {
        try (Connection c = Client.connect(address, options(clientKey))) {
          for (byte[] m : MESSAGES) {
            c.sendBytes(m);
            assertArrayEquals(m, c.receiveBytes());
          }
        }
        assertEquals("done", Pythons.line(out));
      }
      assertEquals(keyCase == Key.WRONG_KEY ? 1 : 0, Pythons.exit(python));
    } finally {
      python.destroyForcibly();
      if (address instanceof Address.Unix unix) Files.deleteIfExists(unix.path());
    }
  }

  @ParameterizedTest(name = "ferry server, python {0} client, {1}, {2}")
  @MethodSource("cases")
  void pythonClientTalksToFerryListener(String version, String family, Key keyCase)
      throws Exception {
    AuthKey key = keyCase == Key.NONE ? null : AuthKey.random();
    AuthKey clientKey = keyCase == Key.WRONG_KEY ? AuthKey.random() : key;
    try (Listener listener = Listener.bind(address(family), options(key))) {
      Process python = start(version, "client", listener.address(), clientKey, MESSAGES);
      try {
      BlockingQueue<String> out = Pythons.output(python);
        if (keyCase == Key.WRONG_KEY) {
          AuthenticationException e = assertThrows(AuthenticationException.class,
              () -> listener.accept(Duration.ofSeconds(30)));
          assertEquals("digest received was wrong", e.getMessage());
          assertEquals("error AuthenticationError: digest sent was rejected", Pythons.line(out));
        } else {
          try (Connection c = listener.accept(Duration.ofSeconds(30))) {
            echoUntilEof(c);
          }
          for (byte[] m : MESSAGES) assertEquals("reply " + HexFormat.of().formatHex(m), Pythons.line(out));
          assertEquals("done", Pythons.line(out));
        }
        assertEquals(keyCase == Key.WRONG_KEY ? 1 : 0, Pythons.exit(python));
      } finally {
        python.destroyForcibly();
      }
    }
  }

  @ParameterizedTest(name = "spinning ferry server, python {0} client")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"2.7", "3.13"})
  void pythonClientTalksToASpinningFerryListener(String version) throws Exception {
    // receiveSpin changes how the server waits, never what it reads: handshake and echoes as ever.
    AuthKey key = AuthKey.random();
    ConnectionOptions spinning = options(key).toBuilder().receiveSpin(Duration.ofNanos(100_000))
        .build();
    try (Listener listener = Listener.bind(address("unix"), spinning)) {
      Process python = start(version, "client", listener.address(), key, MESSAGES);
      try {
        BlockingQueue<String> out = Pythons.output(python);
        try (Connection c = listener.accept(Duration.ofSeconds(30))) {
          echoUntilEof(c);
        }
        for (byte[] m : MESSAGES) assertEquals("reply " + HexFormat.of().formatHex(m), Pythons.line(out));
        assertEquals("done", Pythons.line(out));
        assertEquals(0, Pythons.exit(python));
      } finally {
        python.destroyForcibly();
      }
    }
  }

  /**
   * Sends every message back until the peer ends the stream at a message boundary (over TLS,
   * Python closes without close_notify: a TCP end at a boundary, which is EOF too).
   */
  static void echoUntilEof(Connection c) throws IOException {
    while (true) {
      try {
        c.sendBytes(c.receiveBytes());
      } catch (EOFException e) {
        return;
      }
    }
  }

}
