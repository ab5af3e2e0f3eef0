package dev.ferry.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.AuthKey;
import dev.ferry.LeakCheck;
import dev.ferry.Pythons;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ferry echo --codec pickle --authkey-hex K} on a Unix address, in its own JVM, passes
 * connections inside messages through for every CPython from 3.8 (issue 14.1): conn_echo.py sends
 * {@code {'reply_to': a, 'n': [1, {'deep': a}]}} with no code per connection and gets back one
 * working connection to the other end of its own pipe, at both places. Over 1,000 such messages
 * the descriptor count of both processes ends where it started.
 */
@ExtendWith(LeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConnectionEchoTest {
  private static final Pattern OK = Pattern.compile("ok (\\d+) fds (\\d+) (\\d+)");

  private Path dir;
  private Path errors;
  private Path socket;
  private Process echo;
  private final AuthKey key = AuthKey.random();

  @BeforeAll
  void startEcho() throws IOException {
    dir = Files.createTempDirectory("ferry-conn-echo");
    errors = dir.resolve("echo.err");
    socket = dir.resolve("echo.sock");
    echo = new ProcessBuilder(javaCommand("echo", "--address", "unix:" + socket,
        "--codec", "pickle", "--authkey-hex", key.toHex()))
        .redirectError(errors.toFile())
        .start();
    echo.getOutputStream().close();
    BufferedReader out = new BufferedReader(
        new InputStreamReader(echo.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine(); // null if the JVM fails: its reason is in the errors file
    assertEquals("listening on unix:" + socket, line, () -> read(errors));
  }

  @AfterAll
  void stopEcho() throws Exception {
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
    return Stream.of("3.8", "3.9", "3.10", "3.11", "3.12", "3.13");
  }

  @ParameterizedTest(name = "python {0} through ferry echo --codec pickle")
  @MethodSource("versions")
  void pythonGetsBackWorkingConnectionsToItsOwnPipeAtEveryDepth(String version)
      throws Exception {
    Matcher ok = run(version, 20);
    assertEquals("20", ok.group(1));
    assertEquals("", read(errors), "echo's stderr: no client dropped, no message refused");
  }

  @Test
  void aThousandMessagesWithConnectionsLeaveEveryDescriptorCountWhereItStarted()
      throws Exception {
    run("3.13", 1); // the first fetch may load what the echo JVM keeps for good
    long before = descriptors(echo.pid());
    Matcher ok = run("3.13", 1000);
    assertEquals(ok.group(2), ok.group(3), "python's descriptors before and after");
    assertEquals(before, settledDescriptors(echo.pid(), before), "echo's descriptors");
    assertEquals("", read(errors), "echo's stderr");
  }

  private Matcher run(String version, int messages) throws Exception {
    Path python = Pythons.require(version);
    Path script = Path.of(System.getProperty("basedir", "."), "src/test/python/conn_echo.py");
    Process client = new ProcessBuilder(python.toString(), script.toAbsolutePath().toString(),
        socket.toString(), key.toHex(), Integer.toString(messages))
        .redirectErrorStream(true).start();
    client.getOutputStream().close();
    String printed = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(client.waitFor(PythonPeer.STEP.toSeconds() * 3, TimeUnit.SECONDS), printed);
    assertEquals(0, client.exitValue(), printed + read(errors));
    Matcher ok = OK.matcher(printed.strip());
    assertTrue(ok.matches(), printed);
    return ok;
  }

  private static long descriptors(long pid) throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      return fds.count();
    }
  }

  /** Echo closes a client's copies just after its reply leaves: give it a moment to finish. */
  private static long settledDescriptors(long pid, long wanted) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long now = descriptors(pid);
    while (now != wanted && System.nanoTime() < deadline) {
      Thread.sleep(10);
      now = descriptors(pid);
    }
    return now;
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
