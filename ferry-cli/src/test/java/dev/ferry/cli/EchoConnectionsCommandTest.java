package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.AuthKey;
import dev.ferry.LeakCheck;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ferry echo --codec pickle} and connections inside messages (issue 14.1), with a CPython
 * 3.13 client: passed through on a Unix address with a sharer key, refused one message at a time
 * (a Python {@code RuntimeError} back, one stderr line, the client kept) over TCP or with no key.
 */
@ExtendWith(LeakCheck.class)
class EchoConnectionsCommandTest {
  /** argv: address, client key hex or "none", sharer key hex, messages with a connection. */
  private static final String PYTHON_CLIENT = String.join("\n",
      "import multiprocessing, sys",
      "from multiprocessing.connection import Client",
      "address, key, sharer, n = sys.argv[1:]",
      "multiprocessing.current_process().authkey = bytes.fromhex(sharer)",
      "if address.startswith('tcp:'):",
      "    host, port = address[4:].rsplit(':', 1)",
      "    address = (host, int(port))",
      "c = Client(address, authkey=None if key == 'none' else bytes.fromhex(key))",
      "for i in range(int(n)):",
      "    mine, theirs = multiprocessing.Pipe()",
      "    c.send({'reply_to': theirs, 'n': [1, {'deep': theirs}]})",
      "    reply = c.recv()",
      "    if isinstance(reply, RuntimeError):",
      "        print('RuntimeError: %s' % reply)",
      "        continue",
      "    back = reply['reply_to']",
      "    assert back is reply['n'][1]['deep']",
      "    back.send_bytes(b'hello')",
      "    print('passed: %s' % mine.recv_bytes().decode())",
      "c.send('plain')",
      "print('then: %s' % c.recv())",
      "c.close()",
      "");

  @TempDir
  Path dir;

  @Test
  void echoOverTcpRefusesEachMessageWithAConnectionAndKeepsServingTheClient() throws Exception {
    AuthKey key = AuthKey.random();
    Cli.Running echo = Cli.start("echo", "--address", "tcp:127.0.0.1:0", "--codec", "pickle",
        "--authkey-hex", key.toHex(), "--max-connections", "1");
    String address = echo.awaitListening();
    String reason = "connections cannot travel over tcp: they need a unix address";
    assertEquals("RuntimeError: ferry echo: " + reason + "\n"
        + "RuntimeError: ferry echo: " + reason + "\nthen: plain",
        python(address, key.toHex(), key.toHex(), 2));
    assertEquals(new Cli.Result(0, "listening on " + address + "\n",
        ("refused message: " + reason + "\n").repeat(2)), echo.awaitExit());
  }

  @Test
  void echoWithNoKeyRefusesConnectionsWithAClearReason() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--max-connections", "1");
    echo.awaitListening();
    String reason = "no key to share connections with: start echo with --authkey-hex or "
        + "--sharer-authkey-hex";
    assertEquals("RuntimeError: ferry echo: " + reason + "\nthen: plain",
        python(socket.toString(), "none", AuthKey.random().toHex(), 1));
    assertEquals("refused message: " + reason + "\n", echo.awaitExit().err());
  }

  @Test
  void bulkEchoWithNoKeyRefusesConnectionsAndKeepsTheClientAsThePlainEchoDoes() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--bulk", "--max-connections", "1");
    echo.awaitListening();
    String reason = "no key to share connections with: start echo with --authkey-hex or "
        + "--sharer-authkey-hex";
    assertEquals("RuntimeError: ferry echo: " + reason + "\nthen: plain",
        python(socket.toString(), "none", AuthKey.random().toHex(), 1));
    assertEquals("refused message: " + reason + "\n", echo.awaitExit().err());
  }

  @Test
  void sharerKeyPassesConnectionsWithoutAHandshakeKey() throws Exception {
    Path socket = dir.resolve("echo.sock");
    AuthKey sharer = AuthKey.random();
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--sharer-authkey-hex", sharer.toHex(), "--max-connections", "1");
    echo.awaitListening();
    assertEquals("passed: hello\npassed: hello\nthen: plain",
        python(socket.toString(), "none", sharer.toHex(), 2));
    assertEquals(new Cli.Result(0, "listening on unix:" + socket + "\n", ""), echo.awaitExit());
  }

  @Test
  void aClientWhoseAuthkeyIsNotTheSharerKeyIsDroppedWithTheReason() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--sharer-authkey-hex", AuthKey.random().toHex(), "--max-connections", "1");
    echo.awaitListening();
    Process client = new ProcessBuilder(PickleEchoProtocolTest.pyenvPython("3.13.").toString(),
        "-c", PYTHON_CLIENT, socket.toString(), "none", AuthKey.random().toHex(), "1")
        .redirectErrorStream(true).start();
    client.getOutputStream().close();
    String printed = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(client.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), printed);
    assertTrue(printed.contains("EOFError"), printed);
    assertEquals("dropped client: cannot fetch pickled connection: digest sent was rejected "
        + "(the sender's multiprocessing authkey must be the sharer's key)\n",
        echo.awaitExit().err());
  }

  @Test
  void rejectsSharerKeyWithoutPickleCodec() {
    Cli.Result echo = Cli.run("echo", "--address", "unix:" + dir.resolve("never.sock"),
        "--sharer-authkey-hex", "00");
    assertEquals(new Cli.Result(2, "",
        "--sharer-authkey-hex needs --codec pickle (the codec is bytes)\n"), echo);
    Cli.Result bad = Cli.run("echo", "--address", "unix:" + dir.resolve("never.sock"),
        "--codec", "pickle", "--sharer-authkey-hex", "xyz");
    assertEquals(2, bad.exitCode());
    assertTrue(bad.err().contains("--sharer-authkey-hex is not hexadecimal (3 characters"),
        bad.err());
  }

  private static String python(String address, String key, String sharer, int messages)
      throws Exception {
    Path python = PickleEchoProtocolTest.pyenvPython("3.13.");
    Process process = new ProcessBuilder(python.toString(), "-c", PYTHON_CLIENT, address, key,
        sharer, Integer.toString(messages)).redirectErrorStream(true).start();
    process.getOutputStream().close();
    String printed = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), printed);
    assertEquals(0, process.exitValue(), printed);
    return printed.strip();
  }
}
