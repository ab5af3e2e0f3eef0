package dev.ferry.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.LeakCheck;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ferry echo --codec xmlrpc}, in its own JVM as an operator starts it, serving every
 * supported CPython's {@code XmlClient} with a key: each value of every XML-RPC type comes back
 * byte for byte as that Python's own {@code dumps} writes it (driver.py's xml-echo mode).
 */
@ExtendWith(LeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class XmlRpcEchoTest {
  /** The values of driver.py's {@code xml_echo_values()}. */
  private static final int VALUES = 21;

  private Peers peers;
  private Path dir;
  private Path errors;
  private Process echo;
  private Address address;
  private final AuthKey key = AuthKey.random();

  @BeforeAll
  void startEchoAndPeers() throws IOException {
    dir = Files.createTempDirectory("ferry-xmlrpc");
    errors = dir.resolve("echo.err");
    Path socket = dir.resolve("echo.sock");
    echo = new ProcessBuilder(javaCommand("echo", "--address", "unix:" + socket,
        "--codec", "xmlrpc", "--authkey-hex", key.toHex()))
        .redirectError(errors.toFile())
        .start();
    echo.getOutputStream().close();
    BufferedReader out = new BufferedReader(
        new InputStreamReader(echo.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine(); // null if the JVM fails: its reason is in the errors file
    assertEquals("listening on unix:" + socket, line, () -> read(errors));
    address = new Address.Unix(socket);
    peers = Peers.start(Peers.ALL);
  }

  @AfterEach
  void readyPeers() throws IOException {
    peers.reset();
  }

  @AfterAll
  void stopEchoAndPeers() throws Exception {
    if (peers != null) peers.close();
    if (echo != null) {
      echo.destroy(); // SIGTERM: echo exits 0 and removes its socket file
      if (!echo.waitFor(PythonPeer.STEP.toSeconds(), TimeUnit.SECONDS)) echo.destroyForcibly();
      echo.getInputStream().close();
    }
    try (Stream<Path> left = Files.list(dir)) {
      for (Path p : left.toList()) Files.deleteIfExists(p);
    }
    Files.deleteIfExists(dir);
  }

  static Stream<String> versions() {
    return Peers.ALL.stream();
  }

  @ParameterizedTest(name = "python {0} XmlClient through ferry echo --codec xmlrpc")
  @MethodSource("versions")
  void pythonXmlClientGetsEveryValueBackAsItsOwnDumpsWritesIt(String version)
      throws IOException {
    PythonPeer python = peers.get(version);
    python.connect(address, key, "xml-echo");
    assertEquals("ok xml-echo " + VALUES, python.result());
    assertEquals("", read(errors), "echo's stderr: no client dropped");
  }

  /** The test class path holds ferry-cli's Main and every dependency. */
  private static List<String> javaCommand(String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"),
        "dev.ferry.cli.Main"));
    command.addAll(List.of(args));
    return command;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "cannot read " + file + ": " + e;
    }
  }
}
