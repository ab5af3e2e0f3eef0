package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry echo} as operators run it: its own JVM, stopped by SIGTERM. */
class EchoProcessTest {
  @TempDir
  Path dir;

  @Test
  void servesUntilSigtermThenExitsZeroAndRemovesSocketFile() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Path errors = dir.resolve("echo.err");
    Process echo = new ProcessBuilder(javaCommand("echo", "--address", "unix:" + socket))
        .redirectError(errors.toFile())
        .start();
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(echo.getInputStream(), StandardCharsets.UTF_8))) {
      echo.getOutputStream().close();
      assertEquals("listening on unix:" + socket, out.readLine(), () -> read(errors));
      assertTrue(Files.exists(socket));

      Cli.Result first = Cli.run("send", "--address", "unix:" + socket, "one", "two");
      assertEquals(new Cli.Result(0, "one\ntwo\n", ""), first);
      Cli.Result second = Cli.runWithInput("three\n", "send", "--address", "unix:" + socket);
      assertEquals(new Cli.Result(0, "three\n", ""), second);

      echo.destroy(); // SIGTERM; also closes our ends of its pipes
      assertTrue(echo.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), "echo ignored SIGTERM");
      assertEquals(0, echo.exitValue());
    } finally {
      echo.destroyForcibly();
    }
    assertFalse(Files.exists(socket), "socket file left behind");
    assertEquals("", Files.readString(errors));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "cannot read " + file + ": " + e;
    }
  }

  /** The test class path already holds Main and every dependency. */
  static List<String> javaCommand(String... args) {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    return command;
  }
}
