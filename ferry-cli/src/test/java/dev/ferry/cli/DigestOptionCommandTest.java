package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.LeakCheck;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code --digest} and the handshake of seed 001 ({@code HMAC_DIGEST_NAME='sha256'}). */
@ExtendWith(LeakCheck.class)
class DigestOptionCommandTest {
  private static final String KEY = "00112233445566778899aabbccddeeff";

  /** Seed 001's Client: its answer_challenge and deliver_challenge verbatim, raw HMAC-SHA256. */
  private static final String SEED_001_CLIENT = String.join("\n",
      "import hmac, os, sys",
      "from multiprocessing import AuthenticationError",
      "from multiprocessing.connection import Client",
      "CHALLENGE, WELCOME, FAILURE = b'#CHALLENGE#', b'#WELCOME#', b'#FAILURE#'",
      "def deliver_challenge(connection, authkey):",
      "    message = os.urandom(20)",
      "    connection.send_bytes(CHALLENGE + message)",
      "    digest = hmac.new(authkey, message, 'sha256').digest()",
      "    response = connection.recv_bytes(256)",
      "    if response == digest:",
      "        connection.send_bytes(WELCOME)",
      "    else:",
      "        connection.send_bytes(FAILURE)",
      "        raise AuthenticationError('digest received was wrong')",
      "def answer_challenge(connection, authkey):",
      "    message = connection.recv_bytes(256)",
      "    assert message[:len(CHALLENGE)] == CHALLENGE, 'message = %r' % message",
      "    digest = hmac.new(authkey, message[len(CHALLENGE):], 'sha256').digest()",
      "    connection.send_bytes(digest)",
      "    if connection.recv_bytes(256) != WELCOME:",
      "        raise AuthenticationError('digest sent was rejected')",
      "key = bytes.fromhex(sys.argv[2])",
      "c = Client(sys.argv[1])",
      "answer_challenge(c, key)",
      "deliver_challenge(c, key)",
      "c.send_bytes(b'from seed 001')",
      "print(c.recv_bytes().decode())",
      "c.close()",
      "");

  /** Seed 001's Listener: deliver_challenge then answer_challenge, then one echo. */
  private static final String SEED_001_LISTENER = SEED_001_CLIENT.substring(0,
      SEED_001_CLIENT.indexOf("key = bytes.fromhex")) + String.join("\n",
      "from multiprocessing.connection import Listener",
      "key = bytes.fromhex(sys.argv[2])",
      "listener = Listener(sys.argv[1])",
      "print('ready', flush=True)",
      "c = listener.accept()",
      "deliver_challenge(c, key)",
      "answer_challenge(c, key)",
      "c.send_bytes(c.recv_bytes())",
      "c.close()",
      "listener.close()",
      "");

  @TempDir
  Path dir;

  @Test
  void sendWithDigestSha256TalksToASeed001Listener() throws Exception {
    Path python = DemoCommandTest.python();
    Path socket = dir.resolve("seed.sock");
    Process listener = new ProcessBuilder(python.toString(), "-c", SEED_001_LISTENER,
        socket.toString(), KEY)
        .redirectErrorStream(true)
        .start();
    listener.getOutputStream().close();
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(listener.getInputStream(), StandardCharsets.UTF_8))) {
      assertEquals("ready", out.readLine());
      Cli.Result sent = Cli.run("send", "--address", "unix:" + socket, "--authkey-hex", KEY,
          "--digest", "sha256", "hi");
      assertEquals(new Cli.Result(0, "hi\n", ""), sent);
      assertTrue(listener.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS));
      assertEquals(0, listener.exitValue(), out.lines().reduce("", String::concat));
    } finally {
      listener.destroyForcibly();
    }
  }

  @Test
  void echoWithAKeyServesASeed001PythonClientAsItIs() throws Exception {
    Path python = DemoCommandTest.python();
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--authkey-hex", KEY,
        "--max-connections", "1");
    echo.awaitListening();

    Process client = new ProcessBuilder(python.toString(), "-c", SEED_001_CLIENT,
        socket.toString(), KEY)
        .redirectErrorStream(true)
        .start();
    client.getOutputStream().close();
    String printed = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(client.waitFor(Cli.PATIENCE.toSeconds(), TimeUnit.SECONDS), printed);
    assertEquals(0, client.exitValue(), printed);
    assertEquals("from seed 001\n", printed);
    assertEquals(new Cli.Result(0, "listening on unix:" + socket + "\n", ""), echo.awaitExit());
  }

  @Test
  void sendAndEchoWithDigestStillAuthenticateAsModernPeers() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--authkey-hex", KEY,
        "--digest", "sha256", "--max-connections", "1");
    echo.awaitListening();
    Cli.Result sent = Cli.run("send", "--address", "unix:" + socket, "--authkey-hex", KEY,
        "--digest", "sha3_512", "hi");
    assertEquals(new Cli.Result(0, "hi\n", ""), sent);
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void rejectsDigestsThisRuntimeLacksNamingThem() {
    for (String command : List.of("send", "echo", "listen")) {
      Cli.Result lacking = Cli.run(command, "--address", "unix:" + dir.resolve("x.sock"),
          "--digest", "blake2b");
      assertEquals(new Cli.Result(2, "",
          "--digest: digest not available in this java runtime: blake2b\n"), lacking);
    }
    Cli.Result unknown = Cli.run("send", "--address", "unix:/tmp/x", "--digest", "SHA-256", "hi");
    assertEquals(new Cli.Result(2, "", "--digest: unknown digest: SHA-256\n"), unknown);
  }
}
