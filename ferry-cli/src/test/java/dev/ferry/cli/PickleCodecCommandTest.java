package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.LeakCheck;
import dev.ferry.Listener;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.PyTuple;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code --codec pickle}: Python's {@code send(obj)} and {@code recv()} through the commands. */
@ExtendWith(LeakCheck.class)
class PickleCodecCommandTest {
  /**
   * Protocol 0 for {@code os.system('echo hi')}, as an attacker would write it: loading it in
   * Python runs the command.
   */
  private static final byte[] OS_SYSTEM =
      "cos\nsystem\n(S'echo hi'\ntR.".getBytes(StandardCharsets.ISO_8859_1);

  /** Sends each object, expects it back equal, and prints what it got back. */
  private static final String PYTHON_CLIENT = String.join("\n",
      "import sys",
      "from multiprocessing.connection import Client",
      "objects = [2 ** 100, -2 ** 70, b'\\x00\\x01\\xfe\\xff', 'w\\u00f6rld \\u2713', None, 1.5,",
      "           [1, (2, 3)], {'big': 2 ** 64, 'raw': b'', 'set': {1, 2}}]",
      "with Client(sys.argv[1]) as conn:",
      "    for obj in objects:",
      "        conn.send(obj)",
      "        back = conn.recv()",
      "        if back != obj or type(back) is not type(obj):",
      "            sys.exit('sent %r, got back %r' % (obj, back))",
      "        print(repr(back))",
      "");

  @TempDir
  Path dir;

  @Test
  void echoSendsEachPythonObjectBackToPythonRecv() throws Exception {
    Path python = DemoCommandTest.python();
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--max-connections", "1");
    echo.awaitListening();

    Process client = new ProcessBuilder(python.toString(), "-c", PYTHON_CLIENT, socket.toString())
        .redirectErrorStream(true)
        .start();
    client.getOutputStream().close();
    String printed = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(client.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), printed);
    assertEquals(0, client.exitValue(), printed);
    assertEquals(List.of("1267650600228229401496703205376", "-1180591620717411303424",
        "b'\\x00\\x01\\xfe\\xff'", "'wörld ✓'", "None", "1.5", "[1, (2, 3)]",
        "{'big': 18446744073709551616, 'raw': b'', 'set': {1, 2}}"), printed.lines().toList());

    Cli.Result served = echo.awaitExit();
    assertEquals(new Cli.Result(0, "listening on unix:" + socket + "\n", ""), served);
  }

  @Test
  void sendPicklesEachMessageAsStrAndPrintsStrRepliesBareAsPythonPrintDoes() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--max-connections", "1");
    echo.awaitListening();

    Cli.Result sent = Cli.run("send", "--address", "unix:" + socket, "--codec", "pickle",
        "hello", "it's", "tab\there", "");
    assertEquals(new Cli.Result(0, "hello\nit's\ntab\there\n\n", ""), sent);
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void sendPrintsWhatAnyPicklingPeerRepliesAsPythonRepr() throws Exception {
    Path socket = dir.resolve("peer.sock");
    Address address = new Address.Unix(socket);
    try (Listener listener = Listener.bind(address)) {
      Thread peer = new Thread(() -> {
        try (Connection c = listener.accept()) {
          Object question = c.receive(PickleCodec.standard());
          Map<String, Object> answer = new LinkedHashMap<>();
          answer.put("question", question);
          answer.put("answer", PyTuple.of(42, 1.0e20, null, true));
          c.send(answer, PickleCodec.standard());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, "test-pickle-peer");
      peer.start();
      Cli.Result sent = Cli.run("send", "--address", address.toString(), "--codec", "pickle",
          "why?");
      peer.join();
      assertEquals(new Cli.Result(0, "{'question': 'why?', 'answer': (42, 1e+20, None, True)}\n",
          ""), sent);
    }
  }

  @Test
  void echoWritesTheProtocolOfPickleProtocolOption() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--pickle-protocol", "2", "--max-connections", "1");
    echo.awaitListening();
    try (Connection client = Client.connect(new Address.Unix(socket))) {
      client.send(List.of(1, "two"), PickleCodec.builder().protocol(5).build());
      byte[] reply = client.receiveBytes();
      assertEquals(0x80, reply[0] & 0xff);
      assertEquals(2, reply[1], "protocol");
      assertEquals(List.of(1, "two"), PickleCodec.standard().loads(reply));
    }
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void echoDropsClientSendingRefusedGlobalAndServesOthers() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "pickle",
        "--max-connections", "2");
    echo.awaitListening();
    try (Connection good = Client.connect(new Address.Unix(socket))) {
      try (Connection evil = Client.connect(new Address.Unix(socket))) {
        evil.sendBytes(OS_SYSTEM);
        assertEquals("dropped client: global not allowed: os.system", echo.err.awaitLine());
        assertThrows(EOFException.class, evil::receiveBytes);
      }
      List<Object> value = new ArrayList<>(List.of(BigInteger.TWO.pow(80), "still here"));
      good.send(value, PickleCodec.standard());
      assertEquals(value, good.receive(PickleCodec.standard()));
    }
    Cli.Result served = echo.awaitExit();
    assertEquals(0, served.exitCode());
    assertEquals("dropped client: global not allowed: os.system\n", served.err());
  }

  @Test
  void listenPrintsEachValueAsPythonPrintAndDropsClientSendingRefusedGlobal() throws Exception {
    Path socket = dir.resolve("listen.sock");
    Cli.Running listen = Cli.start("listen", "--address", "unix:" + socket, "--codec", "pickle",
        "--max-connections", "2");
    listen.awaitListening();
    try (Connection good = Client.connect(new Address.Unix(socket))) {
      good.send("first", PickleCodec.standard());
      assertEquals("first", listen.out.awaitLine());
      try (Connection evil = Client.connect(new Address.Unix(socket))) {
        evil.sendBytes(OS_SYSTEM);
        assertEquals("dropped client: global not allowed: os.system", listen.err.awaitLine());
      }
      Map<Object, Object> value = new LinkedHashMap<>();
      value.put(PyTuple.of(1, 2), List.of(new byte[] {'h', 'i'}, 0.5));
      good.send(value, PickleCodec.standard());
      assertEquals("{(1, 2): [b'hi', 0.5]}", listen.out.awaitLine());
      assertFalse(good.poll(), "listen must not reply");
    }
    Cli.Result served = listen.awaitExit();
    assertEquals(0, served.exitCode());
    assertEquals("listening on unix:" + socket + "\nfirst\n{(1, 2): [b'hi', 0.5]}\n",
        served.out());
  }

  @Test
  void rejectsPickleProtocolOutsideTwoToFive() {
    for (String protocol : List.of("7", "1", "x")) {
      Cli.Result r = Cli.run("send", "--address", "unix:/tmp/x", "--codec", "pickle",
          "--pickle-protocol", protocol, "hi");
      assertEquals(new Cli.Result(2, "", "--pickle-protocol must be 2 to 5: " + protocol + "\n"),
          r);
    }
  }

  @Test
  void rejectsPickleProtocolWithoutPickleCodec() {
    Cli.Result send = Cli.run("send", "--address", "unix:/tmp/x", "--pickle-protocol", "3", "hi");
    assertEquals(new Cli.Result(2, "",
        "--pickle-protocol needs --codec pickle (the codec is bytes)\n"), send);
    Cli.Result echo = Cli.run("echo", "--address", "unix:" + dir.resolve("never.sock"),
        "--codec", "utf8", "--pickle-protocol", "3");
    assertEquals(new Cli.Result(2, "",
        "--pickle-protocol needs --codec pickle (the codec is utf8)\n"), echo);
  }
}
