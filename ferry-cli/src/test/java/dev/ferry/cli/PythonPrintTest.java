package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.LeakCheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry listen --codec pickle} prints each value as Python prints it (a str as it is,
 * anything else as its repr), checked against what CPython itself prints for the same values.
 */
@ExtendWith(LeakCheck.class)
class PythonPrintTest {
  private static final String PYTHON_SENDER = String.join("\n",
      "import array, collections, datetime, fractions, sys",
      "from multiprocessing.connection import Client",
      "objects = ['hello', \"it's\", '', 'tab\\there', 2 ** 70, 1.5, None, [1, ('a',)],",
      "    {'k': b'\\x00'}, collections.OrderedDict([('b', 1), ('a', 2)]),",
      "    collections.OrderedDict(), collections.defaultdict(list, {'a': [1]}),",
      "    collections.defaultdict(int), collections.defaultdict(None, {1: 2}),",
      "    collections.Counter('abbccc'), collections.Counter(), collections.deque([1, 'a']),",
      "    collections.deque([1, 2], 5), fractions.Fraction(-3, 4), array.array('i', [1, -2]),",
      "    array.array('d'), range(5), range(1, 11, 2), slice(1, None, 2), slice(3),",
      "    Ellipsis, NotImplemented]",
      "if sys.version_info >= (3, 9):",
      "    import zoneinfo",
      "    paris = zoneinfo.ZoneInfo('Europe/Paris')",
      "    objects += [datetime.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=paris),",
      "        datetime.datetime(2024, 7, 1, 12, 0, 5, 7, tzinfo=paris), paris]",
      "c = Client(sys.argv[1])",
      "for obj in objects:",
      "    c.send(obj)",
      "    print(obj if isinstance(obj, str) else repr(obj))",
      "c.close()",
      "");

  @TempDir
  Path dir;

  @Test
  void listenPrintsEachValueAsPython313Prints() throws Exception {
    Path python = PickleEchoProtocolTest.pyenvPython("3.13.");
    Path socket = dir.resolve("listen.sock");
    Cli.Running listen = Cli.start("listen", "--address", "unix:" + socket, "--codec",
        "pickle", "--max-connections", "1");
    listen.awaitListening();
    Process sender = new ProcessBuilder(python.toString(), "-c", PYTHON_SENDER,
        socket.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    sender.getOutputStream().close();
    String printed = new String(sender.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(sender.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), printed);
    assertEquals(0, sender.exitValue(), printed);
    Cli.Result served = listen.awaitExit();
    assertEquals("", served.err());
    List<String> lines = served.out().lines().toList();
    assertEquals(printed.lines().toList(), lines.subList(1, lines.size()));
  }
}
