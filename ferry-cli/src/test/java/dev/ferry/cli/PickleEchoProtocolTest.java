package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.LeakCheck;
import dev.ferry.pickle.PickleCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry echo --codec pickle} answers each message in the protocol it came in, so one echo
 * serves Python 2.7 and 3.x clients at once, with the standard library's data types intact.
 */
@ExtendWith(LeakCheck.class)
class PickleEchoProtocolTest {
  /** Sends each value with multiprocessing's send() and checks recv() gives an equal one back. */
  private static final String PYTHON_CLIENT = String.join("\n",
      "import array, collections, fractions, sys",
      "from multiprocessing.connection import Client",
      "objects = [u'text', 2 ** 70, [1, (2, 3)], {u'k': None},",
      "    collections.OrderedDict([(u'b', 1), (u'a', 2)]),",
      "    collections.defaultdict(list, {u'a': [1]}), collections.defaultdict(int),",
      "    collections.Counter({u'x': 2}), collections.deque([1, 2], 5),",
      "    fractions.Fraction(3, 4), array.array('i', [1, -2]), array.array('d', [0.5]),",
      "    slice(1, None, 2)]",
      "if sys.version_info[0] >= 3:",
      "    objects += [range(1, 11, 2), Ellipsis, NotImplemented]",
      "if sys.version_info >= (3, 9):",
      "    import datetime, zoneinfo",
      "    paris = zoneinfo.ZoneInfo('Europe/Paris')",
      "    objects.append(datetime.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=paris))",
      "def same(a, b):",
      "    if type(a) is not type(b) or a != b:",
      "        return False",
      "    return (getattr(a, 'maxlen', None) == getattr(b, 'maxlen', None)",
      "        and getattr(a, 'default_factory', None) is getattr(b, 'default_factory', None)",
      "        and getattr(a, 'typecode', None) == getattr(b, 'typecode', None)",
      "        and getattr(a, 'fold', 0) == getattr(b, 'fold', 0)",
      "        and list(getattr(a, 'keys', list)()) == list(getattr(b, 'keys', list)()))",
      "c = Client(sys.argv[1])",
      "for obj in objects:",
      "    c.send(obj)",
      "    back = c.recv()",
      "    if not same(obj, back):",
      "        sys.exit('sent %r, got back %r' % (obj, back))",
      "c.close()",
      "print('ok %d' % len(objects))",
      "");

  @TempDir
  Path dir;

  @Test
  void echoAnswersEachMessageInTheProtocolItCameIn() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--max-connections", "1");
    echo.awaitListening();
    try (Connection client = Client.connect(new Address.Unix(socket))) {
      for (int protocol : List.of(2, 3, 4, 5)) {
        client.send(List.of(protocol), PickleCodec.builder().protocol(protocol).build());
        byte[] reply = client.receiveBytes();
        assertEquals(protocol, reply[1], "protocol of the reply to protocol " + protocol);
        assertEquals(List.of(protocol), PickleCodec.standard().loads(reply));
      }
      // Protocol 0 has no PROTO opcode; Ferry writes 2 at least.
      client.sendBytes("(lp0\nI7\na.".getBytes(StandardCharsets.US_ASCII));
      byte[] reply = client.receiveBytes();
      assertEquals(List.of(0x80, 2), List.of(reply[0] & 0xff, (int) reply[1]));
      assertEquals(List.of(7), PickleCodec.standard().loads(reply));
    }
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void oneEchoServesAPython27AndAPython313ClientAtOnce() throws Exception {
    Path python27 = pyenvPython("2.7.");
    Path python313 = pyenvPython("3.13.");
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--max-connections", "2");
    echo.awaitListening();
    Process old = client(python27, socket);
    Process current = client(python313, socket);
    assertEquals("ok 13", finish(old));
    assertEquals("ok 17", finish(current));
    Cli.Result served = echo.awaitExit();
    assertEquals(new Cli.Result(0, "listening on unix:" + socket + "\n", ""), served);
  }

  private static Process client(Path python, Path socket) throws Exception {
    Process process = new ProcessBuilder(python.toString(), "-c", PYTHON_CLIENT,
        socket.toString()).redirectErrorStream(true).start();
    process.getOutputStream().close();
    return process;
  }

  private static String finish(Process process) throws Exception {
    String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), printed);
    assertEquals(0, process.exitValue(), printed);
    return printed.strip();
  }

  /** pyenv's interpreter whose version starts with {@code prefix}; skips (fails on CI) if none. */
  static Path pyenvPython(String prefix) throws Exception {
    Optional<Path> root = PythonFinder.pyenvRoot(System.getenv());
    Optional<Path> python = Optional.empty();
    Path versions = root.map(r -> r.resolve("versions")).orElse(null);
    if (versions != null && Files.isDirectory(versions)) {
      try (Stream<Path> dirs = Files.list(versions)) {
        python = dirs.filter(d -> d.getFileName().toString().startsWith(prefix))
            .map(d -> d.resolve("bin").resolve("python"))
            .filter(Files::isExecutable)
            .findFirst();
      }
    }
    if (python.isEmpty() && "true".equals(System.getenv("CI"))) {
      fail("no pyenv python " + prefix + "x, and CI=true needs one");
    }
    assumeTrue(python.isPresent(), "no pyenv python " + prefix + "x");
    return python.get();
  }
}
