package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.LeakCheck;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry echo --codec pickle --bulk}: bulk messages come back as the same sealed memory
 * (mapped again by the sender, no copy), and stock clients and old Pythons are still answered in
 * band by the same server.
 */
@ExtendWith(LeakCheck.class)
class BulkEchoCommandTest {
  /** argv: helpers dir, socket path. Prints what came back. */
  private static final String CLIENT = String.join("\n",
      "import sys",
      "sys.path.insert(0, sys.argv[1])",
      "import ferry_bulk",
      "from multiprocessing.connection import Client",
      "c = Client(sys.argv[2])",
      "big = b'b' * (3 << 20)",
      "msg = {'big': big, 'small': b'tiny'}",
      "try:",
      "    import numpy",
      "    msg['array'] = numpy.arange(1 << 19, dtype=numpy.float64)",
      "except ImportError:",
      "    numpy = None",
      "for i in range(3):",
      "    ferry_bulk.send(c, msg)",
      "    back = ferry_bulk.recv(c)",
      "    assert bytes(back['big']) == big and back['small'] == b'tiny', back",
      "    if numpy is not None:",
      "        assert (back['array'] == msg['array']).all()",
      "        assert not back['array'].flags.writeable",
      "mapped = 0",
      "same = None",
      "if ferry_bulk.SUPPORTED:",
      "    with open('/proc/self/maps') as maps:",
      "        mapped = sum(1 for l in maps if 'memfd:ferry-bulk' in l)",
      "    # filled in place, sent with no copy: the echo hands back the very same pages",
      "    with ferry_bulk.SharedBuffer(2 << 20) as shared:",
      "        shared.buffer[:5] = b'hello'",
      "        ferry_bulk.send(c, shared.buffer)",
      "        echoed = ferry_bulk.recv(c)",
      "        shared.buffer[:1] = b'j'",
      "        same = bytes(echoed[:5]) == b'jello'",
      "        del echoed",
      "print('%s readonly=%s mapped=%d same=%s' % (type(back['big']).__name__,",
      "    getattr(back['big'], 'readonly', None), mapped, same))",
      "");

  /** A stock client: no helper, plain multiprocessing. */
  private static final String STOCK = String.join("\n",
      "import sys",
      "from multiprocessing.connection import Client",
      "c = Client(sys.argv[2])",
      "c.send({'big': b'b' * (3 << 20)})",
      "print(len(c.recv()['big']))",
      "");

  /** A client that lies: a pipe's read end where shared memory should be. */
  private static final String LIAR = String.join("\n",
      "import os, pickle, struct, sys",
      "sys.path.insert(0, sys.argv[1])",
      "import ferry_bulk",
      "from multiprocessing.connection import Client",
      "c = Client(sys.argv[2])",
      "r, w = os.pipe()",
      "payload = struct.pack('<8sIIQQ', ferry_bulk.MAGIC, 1, 0, 0, 16) + pickle.dumps(1, 5)",
      "ferry_bulk._send_frame(c, [payload], [r])",
      "try:",
      "    c.recv_bytes()",
      "    print('answered')",
      "except EOFError:",
      "    print('dropped')",
      "");

  @TempDir
  Path dir;

  @Test
  void bulkMessagesComeBackAsTheSameMemoryAndStockClientsInBand() throws Exception {
    Path helpers = dir.resolve("helpers");
    assertEquals(0, Cli.run("python-helpers", helpers.toString()).exitCode());
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--bulk", "--max-connections", "5");
    echo.awaitListening();
    // numpy's 4 MiB array and the 3 MiB bytes: two sealed memfds, mapped again on return
    assertEquals("memoryview readonly=True mapped=2 same=True",
        run(PickleEchoProtocolTest.pyenvPython("3.11."), CLIENT, helpers, socket));
    assertEquals("memoryview readonly=True mapped=1 same=True",
        run(PickleEchoProtocolTest.pyenvPython("3.13."), CLIENT, helpers, socket));
    // Python 2 str decodes to a Java String, which goes back as unicode, as the plain echo does
    assertEquals("unicode readonly=None mapped=0 same=None",
        run(PickleEchoProtocolTest.pyenvPython("2.7."), CLIENT, helpers, socket));
    assertEquals(String.valueOf(3 << 20),
        run(PickleEchoProtocolTest.pyenvPython("3.13."), STOCK, helpers, socket));
    assertEquals("dropped",
        run(PickleEchoProtocolTest.pyenvPython("3.13."), LIAR, helpers, socket));
    Cli.Result served = echo.awaitExit();
    assertEquals(0, served.exitCode());
    assertEquals("listening on unix:" + socket + "\n", served.out());
    assertTrue(served.err().matches("dropped client: bulk buffer 0: descriptor \\d+ is not shared"
        + " memory: pipe:\\[\\d+\\]\n"), served.err());
  }

  @Test
  void bulkNeedsThePickleCodecAndAUnixAddress() throws Exception {
    Cli.Result bytes = Cli.run("echo", "--address", "unix:" + dir.resolve("s"), "--bulk");
    assertEquals(2, bytes.exitCode());
    assertTrue(bytes.err().startsWith("--bulk needs --codec pickle (the codec is bytes)"),
        bytes.err());
    Cli.Result tcp = Cli.run("echo", "--address", "tcp:127.0.0.1:0", "--codec", "pickle",
        "--bulk");
    assertEquals(2, tcp.exitCode());
    assertTrue(tcp.err().startsWith("--bulk needs a unix address (unix:PATH or unix:@NAME): "
        + "descriptors cannot travel over tcp:127.0.0.1:0"), tcp.err());
  }

  private String run(Path python, String code, Path helpers, Path socket) throws Exception {
    return Cli.finish(new ProcessBuilder(python.toString(), "-c", code, helpers.toString(),
        socket.toString()), dir.resolve("output"));
  }

}
