package dev.ferry.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.AuthenticationException;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.LeakCheck;
import dev.ferry.Listener;
import dev.ferry.PythonVersion;
import dev.ferry.pickle.PickleCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The interop matrix: Ferry against every supported CPython, with Python as the listener and as
 * the client; bytes and pickled objects; no key, a key and a wrong key; Unix paths, abstract names
 * and TCP. Also the empty key (3.13), Python's {@code wait()} over Ferry peers (3.6+) and the
 * XML-RPC payload (3.13). One Python process per version serves every case (see driver.py).
 */
@ExtendWith(LeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MatrixTest {
  enum Family { UNIX, ABSTRACT, TCP }

  enum Payload {
    BYTES("bytes"), OBJECTS("objects");

    final String mode;

    Payload(String mode) {
      this.mode = mode;
    }
  }

  private Peers peers;
  private Path dir;
  private final AtomicInteger sockets = new AtomicInteger();

  @BeforeAll
  void startPeers() throws IOException {
    dir = Files.createTempDirectory("ferry-matrix");
    peers = Peers.start(Peers.ALL);
  }

  @AfterEach
  void readyPeers() throws IOException {
    peers.reset();
  }

  @AfterAll
  void stopPeers() throws IOException {
    if (peers != null) peers.close();
    try (Stream<Path> left = Files.list(dir)) {
      for (Path p : left.toList()) Files.deleteIfExists(p);
    }
    Files.deleteIfExists(dir);
  }

  static Stream<Arguments> exchanges() {
    List<Arguments> cases = new ArrayList<>();
    for (String version : Peers.ALL) {
      for (Family family : Family.values()) {
        for (Payload payload : Payload.values()) {
          cases.add(Arguments.of(version, family, false, payload));
          cases.add(Arguments.of(version, family, true, payload));
        }
      }
    }
    return cases.stream();
  }

  static Stream<Arguments> families() {
    return Peers.ALL.stream().flatMap(v -> Stream.of(Family.values()).map(f -> Arguments.of(v, f)));
  }

  static Stream<String> waitVersions() {
    return Peers.ALL.stream().filter(v -> !v.equals("2.7"));
  }

  @ParameterizedTest(name = "python {0} listener, ferry client, {1}, key={2}, {3}")
  @MethodSource("exchanges")
  void ferryClientTalksToPythonListener(String version, Family family, boolean keyed,
      Payload payload) throws IOException {
    PythonPeer python = peers.get(version);
    AuthKey key = keyed ? AuthKey.random() : null;
    Address address = python.serve(address(family), key, payload.mode);
    try (Connection c = Client.connect(address, options(key, version))) {
      exchange(c, payload, version);
    }
    assertEquals(okLine(payload), python.result());
  }

  @ParameterizedTest(name = "ferry listener, python {0} client, {1}, key={2}, {3}")
  @MethodSource("exchanges")
  void pythonClientTalksToFerryListener(String version, Family family, boolean keyed,
      Payload payload) throws IOException {
    PythonPeer python = peers.get(version);
    AuthKey key = keyed ? AuthKey.random() : null;
    try (Listener listener = Listener.bind(address(family), options(key, version))) {
      python.connect(listener.address(), key, payload.mode);
      try (Connection c = listener.accept(PythonPeer.STEP)) {
        exchange(c, payload, version);
      }
    }
    assertEquals(okLine(payload), python.result());
  }

  @ParameterizedTest(name = "python {0} listener refuses a wrong key from a ferry client, {1}")
  @MethodSource("families")
  void pythonListenerAndFerryClientReportAWrongKeyAsCPythonDoes(String version, Family family)
      throws IOException {
    PythonPeer python = peers.get(version);
    Address address = python.serve(address(family), AuthKey.random(), "bytes");
    AuthenticationException e = assertThrows(AuthenticationException.class,
        () -> Client.connect(address, options(AuthKey.random(), version)).close());
    assertEquals("digest sent was rejected", e.getMessage());
    assertEquals("error AuthenticationError: digest received was wrong", python.result());
  }

  @ParameterizedTest(name = "ferry listener refuses a wrong key from a python {0} client, {1}")
  @MethodSource("families")
  void ferryListenerAndPythonClientReportAWrongKeyAsCPythonDoes(String version, Family family)
      throws IOException {
    PythonPeer python = peers.get(version);
    try (Listener listener = Listener.bind(address(family), options(AuthKey.random(), version))) {
      python.connect(listener.address(), AuthKey.random(), "bytes");
      AuthenticationException e = assertThrows(AuthenticationException.class,
          () -> listener.accept(PythonPeer.STEP).close());
      assertEquals("digest received was wrong", e.getMessage());
    }
    assertEquals("error AuthenticationError: digest sent was rejected", python.result());
  }

  @ParameterizedTest(name = "empty key, python 3.13 listener, ferry client, {0}")
  @MethodSource("allFamilies")
  void emptyKeyAuthenticatesWithPython313Listener(Family family) throws IOException {
    PythonPeer python = peers.get("3.13");
    AuthKey empty = AuthKey.of(new byte[0]);
    Address address = python.serve(address(family), empty, "bytes");
    try (Connection c = Client.connect(address, options(empty, "3.13"))) {
      exchange(c, Payload.BYTES, "3.13");
    }
    assertEquals(okLine(Payload.BYTES), python.result());
  }

  @ParameterizedTest(name = "empty key, ferry listener, python 3.13 client, {0}")
  @MethodSource("allFamilies")
  void emptyKeyAuthenticatesWithPython313Client(Family family) throws IOException {
    PythonPeer python = peers.get("3.13");
    AuthKey empty = AuthKey.of(new byte[0]);
    try (Listener listener = Listener.bind(address(family), options(empty, "3.13"))) {
      python.connect(listener.address(), empty, "bytes");
      try (Connection c = listener.accept(PythonPeer.STEP)) {
        exchange(c, Payload.BYTES, "3.13");
      }
    }
    assertEquals(okLine(Payload.BYTES), python.result());
  }

  @ParameterizedTest(name = "empty key, wrong against a real key, python 3.13 listener, {0}")
  @MethodSource("allFamilies")
  void emptyKeyIsAKeyLikeAnyOtherWithPython313(Family family) throws IOException {
    PythonPeer python = peers.get("3.13");
    Address address = python.serve(address(family), AuthKey.random(), "bytes");
    AuthenticationException e = assertThrows(AuthenticationException.class,
        () -> Client.connect(address, options(AuthKey.of(new byte[0]), "3.13")).close());
    assertEquals("digest sent was rejected", e.getMessage());
    assertEquals("error AuthenticationError: digest received was wrong", python.result());
  }

  /**
   * Python 2.7 to 3.12 listeners authenticate only if the key is truthy (PROTOCOL §2.6): with
   * {@code b''} they talk to a Ferry client that has no key at all.
   */
  @ParameterizedTest(name = "python {0} listener with the empty key, ferry client without a key")
  @MethodSource("versionsBefore313")
  void pythonListenersBefore313TakeTheEmptyKeyAsNoKey(String version) throws IOException {
    PythonPeer python = peers.get(version);
    Address address = python.serve(address(Family.UNIX), AuthKey.of(new byte[0]), "bytes");
    try (Connection c = Client.connect(address, options(null, version))) {
      exchange(c, Payload.BYTES, version);
    }
    assertEquals(okLine(Payload.BYTES), python.result());
  }

  /** Python clients of every version run the handshake with {@code b''}, as Ferry does. */
  @ParameterizedTest(name = "ferry listener, python {0} client, both with the empty key")
  @MethodSource("versions")
  void pythonClientsOfEveryVersionAuthenticateWithTheEmptyKey(String version) throws IOException {
    PythonPeer python = peers.get(version);
    AuthKey empty = AuthKey.of(new byte[0]);
    try (Listener listener = Listener.bind(address(Family.UNIX), options(empty, version))) {
      python.connect(listener.address(), empty, "bytes");
      try (Connection c = listener.accept(PythonPeer.STEP)) {
        exchange(c, Payload.BYTES, version);
      }
    }
    assertEquals(okLine(Payload.BYTES), python.result());
  }

  static Stream<String> versions() {
    return Peers.ALL.stream();
  }

  static Stream<String> versionsBefore313() {
    return Peers.ALL.stream().filter(v -> !v.equals("3.13"));
  }

  static Stream<Family> allFamilies() {
    return Stream.of(Family.values());
  }

  /**
   * Python connects three clients to a Ferry listener; Ferry sends on the first and the third;
   * Python's {@code multiprocessing.connection.wait()} returns exactly those two.
   */
  @ParameterizedTest(name = "python {0} wait() over three ferry connections")
  @MethodSource("waitVersions")
  void pythonWaitReturnsTheFerryConnectionsThatSent(String version) throws IOException {
    PythonPeer python = peers.get(version);
    try (Listener listener = Listener.bind(address(Family.UNIX), options(null, version))) {
      python.connectForWait(listener.address(), 3);
      Map<Integer, Connection> byIndex = new HashMap<>();
      try {
        for (int i = 0; i < 3; i++) {
          Connection c = listener.accept(PythonPeer.STEP);
          byIndex.put(c.receiveBytes()[0] & 0xff, c);
        }
        assertEquals("connected", python.line(PythonPeer.STEP));
        for (int i : new int[] {0, 2}) {
          byIndex.get(i).sendBytes(("go " + i).getBytes(StandardCharsets.US_ASCII));
        }
        python.tell("go");
        assertEquals("ok ready 0,2", python.result());
      } finally {
        for (Connection c : byIndex.values()) c.close();
      }
    }
  }

  /** PROTOCOL §1.6: Python's XmlListener and XmlClient carry a UTF-8 {@code <params>} fragment. */
  @ParameterizedTest(name = "xml-rpc payload, python 3.13 XmlListener, ferry client, {0}")
  @MethodSource("allFamilies")
  void ferryClientExchangesXmlRpcPayloadsWithPythonXmlListener(Family family) throws IOException {
    PythonPeer python = peers.get("3.13");
    AuthKey key = AuthKey.random();
    Address address = python.serve(address(family), key, "xml");
    try (Connection c = Client.connect(address, options(key, "3.13"))) {
      exchangeXml(c);
    }
    assertEquals("ok objects", python.result());
  }

  @ParameterizedTest(name = "xml-rpc payload, ferry listener, python 3.13 XmlClient, {0}")
  @MethodSource("allFamilies")
  void pythonXmlClientExchangesXmlRpcPayloadsWithFerryListener(Family family) throws IOException {
    PythonPeer python = peers.get("3.13");
    AuthKey key = AuthKey.random();
    try (Listener listener = Listener.bind(address(family), options(key, "3.13"))) {
      python.connect(listener.address(), key, "xml");
      try (Connection c = listener.accept(PythonPeer.STEP)) {
        exchangeXml(c);
      }
    }
    assertEquals("ok objects", python.result());
  }

  private static void exchangeXml(Connection c) throws IOException {
    c.sendBytes(Values.XML_FRAGMENT.getBytes(StandardCharsets.UTF_8));
    String reply = new String(c.receiveBytes(), StandardCharsets.UTF_8);
    assertEquals(Values.XML_FRAGMENT, reply);
    c.sendBytes(reply.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Ferry's half of driver.py's modes; Ferry speaks first. Bytes: send each pattern and read its
   * echo, then echo Python's patterns. Objects: send VALUE, decode Python's VALUE, send that back.
   */
  private static void exchange(Connection c, Payload payload, String version) throws IOException {
    switch (payload) {
      case BYTES -> {
        for (int n : Values.PATTERN_SIZES) {
          byte[] message = Values.pattern(n);
          c.sendBytes(message);
          assertArrayEquals(message, c.receiveBytes(), "echo of " + n + " bytes");
        }
        for (int n : Values.PATTERN_SIZES) {
          byte[] message = c.receiveBytes();
          assertArrayEquals(Values.pattern(n), message, "python's message of " + n + " bytes");
          c.sendBytes(message);
        }
      }
      case OBJECTS -> {
        PickleCodec codec = PickleCodec.builder().peer(version).build();
        assertEquals(version.equals("2.7") ? 2 : 4, codec.protocol());
        c.send(Values.value(), codec);
        Object got = c.receive(codec);
        assertEquals(Values.comparable(Values.valueFrom(version)), Values.comparable(got));
        c.send(got, codec);
      }
    }
  }

  private static String okLine(Payload payload) {
    return switch (payload) {
      case BYTES -> "ok bytes " + Values.PATTERN_SIZES.size() + "+" + Values.PATTERN_SIZES.size();
      case OBJECTS -> "ok objects";
    };
  }

  private Address address(Family family) {
    String name = "m" + sockets.incrementAndGet();
    return switch (family) {
      case UNIX -> new Address.Unix(dir.resolve(name));
      case ABSTRACT -> new Address.Abstract("ferry-matrix-" + UUID.randomUUID() + "-" + name);
      case TCP -> new Address.Tcp("127.0.0.1", 0);
    };
  }

  private static ConnectionOptions options(AuthKey key, String version) {
    ConnectionOptions.Builder b = ConnectionOptions.builder()
        .handshakeTimeout(PythonPeer.STEP)
        .peerPython(PythonVersion.parse(version));
    if (key != null) b.authKey(key);
    return b.build();
  }
}
