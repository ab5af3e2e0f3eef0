package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.LeakCheck;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LeakCheck.class)
class CommandLineTest {
  @TempDir
  Path dir;

  @Test
  void printsVersionAndExitsZero() {
    Cli.Result r = Cli.run("--version");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().matches("ferry \\S+ \\(java \\S+\\)\\n"), r.out());
    assertFalse(r.out().contains("${"), "version.properties was not filtered: " + r.out());
  }

  @Test
  void printsHelpListingEveryCommand() {
    Cli.Result r = Cli.run("--help");
    assertEquals(0, r.exitCode());
    for (String command : new String[] {"echo", "listen", "send", "demo", "selftest", "bench", "help"}) {
      assertTrue(r.out().contains("  " + command), command + " missing from " + r.out());
    }
    assertEquals("", r.err());
  }

  @Test
  void printsHelpOfOneCommand() {
    Cli.Result r = Cli.run("help", "send");
    assertEquals(0, r.exitCode());
    assertTrue(r.out().startsWith("Usage: ferry send"), r.out());
    assertTrue(r.out().contains("--authkey-hex=HEX"), r.out());
  }

  @Test
  void rejectsZeroBenchRepetitionsWithOneLineAndExitTwo() {
    Cli.Result r = Cli.run("bench", "--repetitions", "0");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().startsWith("--repetitions < 1: 0\n"), r.err());
    assertEquals("", r.out());
  }

  @Test
  void rejectsABadOnlyPatternWithOneLineAndExitTwo() {
    Cli.Result r = Cli.run("bench", "--only", "one-way (4");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().startsWith("--only is not a regular expression: one-way (4 (Unclosed group)\n"),
        r.err());
    assertEquals("", r.out());
  }

  @Test
  void rejectsATinyScaleWithOneLineAndExitTwo() {
    Cli.Result r = Cli.run("bench", "--scale", "5");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().startsWith("--scale < 10: 5\n"), r.err());
    assertEquals("", r.out());
  }

  @Test
  void rejectsMissingCommandWithOneLine() {
    Cli.Result r = Cli.run();
    assertEquals(2, r.exitCode());
    assertEquals("missing command (one of: echo, listen, send, demo, selftest, bench, python-helpers,"
        + " help)\n", r.err());
    assertEquals("", r.out());
  }

  @Test
  void rejectsUnknownAddressSyntaxWithOneLineAndExitTwo() {
    for (String command : new String[] {"echo", "listen", "send"}) {
      Cli.Result r = Cli.run(command, "--address", "foo");
      assertAll(command,
          () -> assertEquals(2, r.exitCode()),
          () -> assertEquals("unknown address syntax: foo (expected unix:/path, unix:@name,"
              + " tcp:host:port)\n", r.err()),
          () -> assertEquals("", r.out()));
    }
  }

  @Test
  void rejectsUnknownCodecNamingIt() {
    Cli.Result r = Cli.run("send", "--address", "unix:/tmp/x", "--codec", "json", "hi");
    assertEquals(2, r.exitCode());
    assertEquals("unknown codec: json (expected bytes, utf8, pickle or xmlrpc)\n", r.err());
  }

  @Test
  void rejectsKeyThatIsNotHexWithoutEchoingIt() {
    Cli.Result r = Cli.run("send", "--address", "unix:/tmp/x", "--authkey-hex", "s3cr3t", "hi");
    assertEquals(2, r.exitCode());
    assertEquals("--authkey-hex is not hexadecimal (6 characters; expected an even number of"
        + " 0-9a-f)\n", r.err());
  }

  @Test
  void rejectsMaxConnectionsBelowOne() {
    Cli.Result r = Cli.run("echo", "--address", "unix:" + dir.resolve("s"), "--max-connections", "0");
    assertEquals(2, r.exitCode());
    assertEquals("--max-connections must be at least 1: 0\n", r.err());
    assertEquals("", r.out());
  }

  @Test
  void rejectsAReceiveSpinOutOfRange() {
    for (String spin : new String[] {"-1", "1000001"}) {
      Cli.Result r = Cli.run("echo", "--address", "unix:" + dir.resolve("s"), "--receive-spin-us",
          spin);
      assertEquals(2, r.exitCode());
      assertTrue(r.err().startsWith("--receive-spin-us must be 0 to 1000000: " + spin + "\n"),
          r.err());
      assertEquals("", r.out());
    }
  }

  @Test
  void rejectsMissingAddress() {
    Cli.Result r = Cli.run("send", "hi");
    assertEquals(2, r.exitCode());
    assertEquals("Missing required option: '--address=ADDR'\n", r.err());
  }

  @Test
  void refusesUnauthenticatedTcpListenerOnTheNetworkAsUsageError() {
    Cli.Result r = Cli.run("echo", "--address", "tcp:0.0.0.0:0");
    assertEquals(2, r.exitCode());
    assertTrue(r.err().startsWith("refusing to listen on tcp:0.0.0.0:0 without an authkey"), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
  }

  @Test
  void sendToRefusedTcpPortSaysConnectionRefused() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // free once closed; nobody listens there during the test
    }
    Cli.Result r = Cli.run("send", "--address", "tcp:127.0.0.1:" + port, "hi");
    assertEquals(1, r.exitCode());
    assertEquals("connection refused: tcp:127.0.0.1:" + port + "\n", r.err());
    assertEquals("", r.out());
  }

  @Test
  void sendToMissingSocketFileSaysSo() {
    Path missing = dir.resolve("nobody-here.sock");
    Cli.Result r = Cli.run("send", "--address", "unix:" + missing, "hi");
    assertEquals(1, r.exitCode());
    assertEquals("no such socket file: unix:" + missing + "\n", r.err());
  }

  @Test
  void echoOnAnAddressInUseFailsWithOneLine() throws Exception {
    Path socket = dir.resolve("s");
    Cli.Running first = Cli.start("echo", "--address", "unix:" + socket, "--max-connections", "1");
    first.awaitListening();
    Cli.Result second = Cli.run("echo", "--address", "unix:" + socket);
    assertEquals(1, second.exitCode());
    assertEquals("address already in use: unix:" + socket + "\n", second.err());
    assertEquals(0, Cli.run("send", "--address", "unix:" + socket).exitCode()); // ends the first
    assertEquals(0, first.awaitExit().exitCode());
  }
}
