package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.LeakCheck;
import dev.ferry.codec.Codecs;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code --codec xmlrpc}: what Python's {@code XmlListener}/{@code XmlClient} send. */
@ExtendWith(LeakCheck.class)
class XmlRpcCodecCommandTest {
  /** A DTD whose entity would read a local file: the codec refuses the payload whole. */
  private static final byte[] EXTERNAL_ENTITY = ("<!DOCTYPE p [<!ENTITY x SYSTEM "
      + "'file:///etc/passwd'>]><params><param><value>&x;</value></param></params>")
      .getBytes(StandardCharsets.UTF_8);

  /** Sends each value through XmlClient, expects it back equal, and prints what came back. */
  private static final String PYTHON_CLIENT = String.join("\n",
      "import datetime, sys",
      "from multiprocessing.connection import XmlClient",
      "import xmlrpc.client",
      "values = [42, -2 ** 31, 2.5, 'w\\u00f6rld \\u2713 <&>', True, None, [1, [2, 'x']],",
      "          {'k': {'n': 1.5}}, xmlrpc.client.Binary(b'\\x00\\xff'),",
      "          datetime.datetime(2024, 2, 29, 12, 30, 5)]",
      "conn = XmlClient(sys.argv[1])  # its wrapper is no context manager",
      "for value in values:",
      "    conn.send(value)",
      "    back = conn.recv()",
      "    if back != value:",
      "        sys.exit('sent %r, got back %r' % (value, back))",
      "    print(back.data if isinstance(back, xmlrpc.client.Binary) else back)",
      "conn.close()",
      "");

  @TempDir
  Path dir;

  @Test
  void echoSendsEachValueBackToPythonXmlClient() throws Exception {
    Path python = DemoCommandTest.python();
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "xmlrpc",
        "--max-connections", "1");
    echo.awaitListening();

    Process client = new ProcessBuilder(python.toString(), "-c", PYTHON_CLIENT, socket.toString())
        .redirectErrorStream(true)
        .start();
    client.getOutputStream().close();
    String printed = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(client.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), printed);
    assertEquals(0, client.exitValue(), printed);
    assertEquals(List.of("42", "-2147483648", "2.5", "wörld ✓ <&>", "True", "None",
        "[1, [2, 'x']]", "{'k': {'n': 1.5}}", "b'\\x00\\xff'", "20240229T12:30:05"),
        printed.lines().toList());
    assertEquals(new Cli.Result(0, "listening on unix:" + socket + "\n", ""), echo.awaitExit());
  }

  @Test
  void sendWritesEachMessageAsXmlRpcStringAndPrintsTheReplyAsPythonRepr() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--codec", "xmlrpc",
        "--max-connections", "1");
    echo.awaitListening();
    Cli.Result sent = Cli.run("send", "--address", "unix:" + socket, "--codec", "xmlrpc",
        "hello", "<&>", "");
    assertEquals(new Cli.Result(0, "hello\n<&>\n\n", ""), sent);
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void listenPrintsEachValueAsPythonReprAndDropsClientSendingADtd() throws Exception {
    Path socket = dir.resolve("listen.sock");
    Cli.Running listen = Cli.start("listen", "--address", "unix:" + socket, "--codec", "xmlrpc",
        "--max-connections", "2");
    listen.awaitListening();
    try (Connection good = Client.connect(new Address.Unix(socket))) {
      Map<String, Object> value = new LinkedHashMap<>();
      value.put("when", LocalDateTime.of(2024, 2, 29, 12, 30));
      value.put("raw", new byte[] {'h', 'i'});
      value.put("none", null);
      good.send(value, Codecs.xmlRpc());
      assertEquals("{'when': datetime.datetime(2024, 2, 29, 12, 30), 'raw': b'hi', 'none': None}",
          listen.out.awaitLine());
      try (Connection evil = Client.connect(new Address.Unix(socket))) {
        evil.sendBytes(EXTERNAL_ENTITY);
        assertEquals("dropped client: xml-rpc payload has a dtd: refused", listen.err.awaitLine());
        assertThrows(EOFException.class, evil::receiveBytes);
      }
      good.send(List.of(1, 2.5), Codecs.xmlRpc());
      assertEquals("[1, 2.5]", listen.out.awaitLine());
      assertFalse(good.poll(), "listen must not reply");
    }
    Cli.Result served = listen.awaitExit();
    assertEquals(0, served.exitCode());
    assertEquals("dropped client: xml-rpc payload has a dtd: refused\n", served.err());
  }

  @Test
  void rejectsPickleProtocolWithXmlRpcCodec() {
    Cli.Result send = Cli.run("send", "--address", "unix:/tmp/x", "--codec", "xmlrpc",
        "--pickle-protocol", "3", "hi");
    assertEquals(new Cli.Result(2, "",
        "--pickle-protocol needs --codec pickle (the codec is xmlrpc)\n"), send);
  }
}
