package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.LeakCheck;
import dev.ferry.Pythons;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ferry echo --fd N} and {@code ferry listen --fd N} in their own JVM, started by a real
 * CPython parent with {@code subprocess.Popen(..., pass_fds=[N])} (Python 3.2+).
 */
@ExtendWith(LeakCheck.class)
class FdOptionCommandTest {
  private static final String KEY = "00112233445566778899aabbccddeeff";

  /**
   * {@code parent.py KEY_HEX|- CODEC COMMAND...}: makes a, b = Pipe(), runs COMMAND with {fd}
   * replaced by b's number and pass_fds=[b], authenticates with CPython's own functions when a
   * key is given, sends two messages (echo: prints the replies), closes, prints the exit status.
   */
  private static final String PARENT = String.join("\n",
      "import subprocess, sys",
      "from multiprocessing import Pipe",
      "from multiprocessing.connection import answer_challenge, deliver_challenge",
      "key, codec = sys.argv[1], sys.argv[2]",
      "a, b = Pipe()",
      "fd = b.fileno()",
      "command = [x.replace('{fd}', str(fd)) for x in sys.argv[3:]]",
      "child = subprocess.Popen(command, pass_fds=[fd])",
      "b.close()",
      "if key != '-':",
      "    k = bytes(bytearray.fromhex(key))",
      "    answer_challenge(a, k)",
      "    deliver_challenge(a, k)",
      "for m in ['one', 'two']:",
      "    if codec == 'pickle':",
      "        a.send({'m': [m, 2]})",
      "    else:",
      "        a.send_bytes(m.encode())",
      "    if 'echo' in command:",
      "        print(a.recv() if codec == 'pickle' else a.recv_bytes().decode())",
      "a.close()",
      "sys.stdout.flush()",
      "print('exit %d' % child.wait(timeout=60))",
      "");

  /** {@code one_way.py COMMAND...}: as PARENT, over Pipe(False), whose ends are os.pipe() ends. */
  private static final String ONE_WAY = String.join("\n",
      "import subprocess, sys",
      "from multiprocessing import Pipe",
      "r, w = Pipe(False)",
      "command = [x.replace('{fd}', str(r.fileno())) for x in sys.argv[1:]]",
      "child = subprocess.Popen(command, pass_fds=[r.fileno()])",
      "r.close()",
      "for m in ['one', 'two']:",
      "    w.send({'m': [m, 2]})",
      "w.close()",
      "print('exit %d' % child.wait(timeout=60))",
      "");

  /** {@code bad.py KIND COMMAND...}: passes one descriptor of KIND, prints the exit status. */
  private static final String BAD = String.join("\n",
      "import os, socket, subprocess, sys",
      "kind = sys.argv[1]",
      "keep = []",
      "if kind == 'file':",
      "    f = open(sys.executable, 'rb'); keep.append(f); fd = f.fileno()",
      "elif kind == 'tcp':",
      "    s = socket.socket(); keep.append(s); fd = s.fileno()",
      "elif kind == 'listening':",
      "    s = socket.socket(socket.AF_UNIX); s.bind('\\0ferry-fd-test-%d' % os.getpid());"
          + " s.listen(1); keep.append(s); fd = s.fileno()",
      "elif kind == 'datagram':",
      "    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); keep.append(s); fd = s.fileno()",
      "elif kind == 'unconnected':",
      "    s = socket.socket(socket.AF_UNIX); keep.append(s); fd = s.fileno()",
      "elif kind == 'pipe':",
      "    r, w = os.pipe(); fd = r",
      "else:",
      "    fd = 999",
      "command = [x.replace('{fd}', str(fd)) for x in sys.argv[2:]]",
      "passed = [] if kind == 'closed' else [fd]",
      "sys.stdout.write('fd %d\\n' % fd)",
      "sys.stdout.flush()",
      "print('exit %d' % subprocess.call(command, pass_fds=passed, timeout=60))",
      "");

  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"})
  void echoServesThePipeEndAPythonParentPassedAndExitsZeroWhenItCloses(String version)
      throws Exception {
    String out = run(version, PARENT, List.of(KEY, "bytes"),
        "echo", "--fd", "{fd}", "--authkey-hex", KEY);
    assertEquals("one\ntwo\nexit 0\n", out);
  }

  @Test
  void echoWithoutAKeyRunsNoHandshake() throws Exception {
    String out = run("3.13", PARENT, List.of("-", "pickle"), "echo", "--fd", "{fd}",
        "--codec", "pickle");
    assertEquals("{'m': ['one', 2]}\n{'m': ['two', 2]}\nexit 0\n", out);
  }

  @Test
  void listenPrintsWhatThePipeEndCarriesUntilThePeerCloses() throws Exception {
    String out = run("3.13", PARENT, List.of(KEY, "pickle"), "listen", "--fd", "{fd}",
        "--authkey-hex", KEY, "--codec", "pickle");
    assertEquals("{'m': ['one', 2]}\n{'m': ['two', 2]}\nexit 0\n", out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"3.6", "3.13"})
  void listenServesTheReadEndOfAOneWayPipe(String version) throws Exception {
    String out = run(version, ONE_WAY, List.of(), "listen", "--fd", "{fd}", "--codec", "pickle");
    assertEquals("{'m': ['one', 2]}\n{'m': ['two', 2]}\nexit 0\n", out);
  }

  @Test
  void sigtermStopsAnInheritedConnectionsServerWithExitZero() throws Exception {
    String script = String.join("\n",
        "import signal, subprocess, sys",
        "from multiprocessing import Pipe",
        "a, b = Pipe()",
        "command = [x.replace('{fd}', str(b.fileno())) for x in sys.argv[1:]]",
        "child = subprocess.Popen(command, pass_fds=[b.fileno()])",
        "b.close()",
        "a.send_bytes(b'ping')",
        "print(a.recv_bytes().decode())",
        "sys.stdout.flush()",
        "child.send_signal(signal.SIGTERM)",
        "print('exit %d' % child.wait(timeout=60))",
        "");
    assertEquals("ping\nexit 0\n", run("3.13", script, List.of(), "echo", "--fd", "{fd}"));
  }

  @Test
  void wrongKeyFailsWithOneLineAndExitOne() throws Exception {
    String out = run("3.13", PARENT.replace("    answer_challenge(a, k)\n",
        "    try:\n        answer_challenge(a, k)\n    except Exception as e:\n"
            + "        print(e); a.close(); sys.stdout.flush()\n"
            + "        print('exit %d' % child.wait(timeout=60)); sys.exit(0)\n"),
        List.of("0bad", "bytes"), "echo", "--fd", "{fd}", "--authkey-hex", KEY);
    // Parent and child print at about the same time: their lines come in either order.
    assertEquals(List.of("authentication failed: digest received was wrong",
        "digest sent was rejected", "exit 1"), out.lines().sorted().toList());
    assertTrue(out.endsWith("exit 1\n"), out);
  }

  @Test
  void refusesDescriptorsThatAreNoUnixSocketWithOneLineAndExitOne() throws Exception {
    for (String kind : List.of("closed", "file", "tcp", "listening", "datagram", "unconnected",
        "pipe")) {
      // listen serves a pipe's read end (below); echo, which answers, cannot.
      for (String command : kind.equals("pipe") ? List.of("echo") : List.of("echo", "listen")) {
        String out = run("3.13", BAD, List.of(kind), command, "--fd", "{fd}");
        String fd = out.substring(3, out.indexOf('\n'));
        String expected = switch (kind) {
          case "closed" -> "descriptor " + fd + " is not open";
          case "file" -> "descriptor " + fd + " is a regular file, not a unix socket or a pipe";
          case "tcp" -> "descriptor " + fd
              + " is a socket of another family (tcp?), not a unix socket or a pipe";
          case "listening" -> "descriptor " + fd + " is a listening unix socket";
          case "datagram" -> "descriptor " + fd + " is a unix datagram socket, not a stream socket";
          case "unconnected" -> "descriptor " + fd + " is an unconnected unix socket";
          default -> "descriptor " + fd + " is a pipe's read end: it cannot send";
        };
        assertEquals("fd " + fd + "\n" + expected + "\nexit 1\n", out, kind + " " + command);
      }
    }
  }

  @Test
  void fdAndAddressExcludeEachOther() {
    Cli.Result r = Cli.run("echo", "--fd", "3", "--address", "unix:/tmp/x");
    assertEquals(new Cli.Result(2, "", "--fd and --address exclude each other\n"), r);
    Cli.Result none = Cli.run("listen");
    assertEquals(new Cli.Result(2, "", "Missing required option: '--address=ADDR' or '--fd=N'\n"),
        none);
  }

  /**
   * Runs {@code script args...} under CPython {@code version}, the ferry command line following
   * as the script's command; returns what parent and child printed, stdout and stderr together.
   */
  private String run(String version, String script, List<String> args, String... ferry)
      throws Exception {
    List<String> command = new ArrayList<>(List.of(Pythons.require(version).toString(), "-c",
        script));
    command.addAll(args);
    command.addAll(EchoProcessTest.javaCommand(ferry));
    Path output = dir.resolve("output");
    Process parent = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(output.toFile()).start();
    try {
      parent.getOutputStream().close();
      boolean exited = parent.waitFor(90, TimeUnit.SECONDS);
      String text = Files.readString(output);
      assertTrue(exited, "python parent did not exit: " + text);
      assertEquals(0, parent.exitValue(), text);
      return text;
    } finally {
      parent.destroyForcibly();
    }
  }
}
