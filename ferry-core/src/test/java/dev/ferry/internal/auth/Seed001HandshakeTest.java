package dev.ferry.internal.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.AuthenticationException;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Pythons;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seed 001's handshake, as some distributions ship it, run by a real CPython: its
 * {@code deliver_challenge} and {@code answer_challenge} verbatim ({@code HMAC_DIGEST_NAME =
 * 'sha256'}, 20-byte challenges, raw HMAC-SHA256 answers) over stdlib connections.
 */
class Seed001HandshakeTest {
  private static final Duration STEP = Duration.ofSeconds(20);

  private static final String SEED_001 = String.join("\n",
      "import hmac, os, sys",
      "from multiprocessing import AuthenticationError",
      "from multiprocessing.connection import Client, Listener",
      "HMAC_DIGEST_NAME = 'sha256'",
      "MESSAGE_LENGTH = 20",
      "CHALLENGE = b'#CHALLENGE#'",
      "WELCOME = b'#WELCOME#'",
      "FAILURE = b'#FAILURE#'",
      "def deliver_challenge(connection, authkey):",
      "    message = os.urandom(MESSAGE_LENGTH)",
      "    connection.send_bytes(CHALLENGE + message)",
      "    digest = hmac.new(authkey, message, HMAC_DIGEST_NAME).digest()",
      "    response = connection.recv_bytes(256)",
      "    if response == digest:",
      "        connection.send_bytes(WELCOME)",
      "    else:",
      "        connection.send_bytes(FAILURE)",
      "        raise AuthenticationError('digest received was wrong')",
      "def answer_challenge(connection, authkey):",
      "    message = connection.recv_bytes(256)",
      "    assert message[:len(CHALLENGE)] == CHALLENGE, 'message = %r' % message",
      "    message = message[len(CHALLENGE):]",
      "    digest = hmac.new(authkey, message, HMAC_DIGEST_NAME).digest()",
      "    connection.send_bytes(digest)",
      "    response = connection.recv_bytes(256)",
      "    if response != WELCOME:",
      "        raise AuthenticationError('digest sent was rejected')",
      "role, address, key = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])",
      "try:",
      "    if role == 'client':  # seed 001's Client(address, authkey=key)",
      "        c = Client(address)",
      "        answer_challenge(c, key)",
      "        deliver_challenge(c, key)",
      "        c.send_bytes(b'from seed 001')",
      "        print('ok ' + c.recv_bytes().decode())",
      "    else:  # seed 001's Listener(authkey=key).accept()",
      "        listener = Listener(('127.0.0.1', 0))",
      "        print(listener.address[1], flush=True)",
      "        c = listener.accept()",
      "        deliver_challenge(c, key)",
      "        answer_challenge(c, key)",
      "        c.send_bytes(b'from seed 001')",
      "        print('ok ' + c.recv_bytes().decode())",
      "except Exception as e:",
      "    print('error %s: %s' % (type(e).__name__, e))",
      "");

  @TempDir
  Path dir;

  @Test
  void ferryListenerWelcomesASeed001ClientWithNoOption() throws Exception {
    AuthKey key = AuthKey.random();
    Address address = new Address.Unix(dir.resolve("seed.sock"));
    ConnectionOptions options = ConnectionOptions.builder().authKey(key).build();
    try (Listener listener = Listener.bind(address, options)) {
      Peer python = seed001("client", dir.resolve("seed.sock").toString(), key);
      try (Connection c = listener.accept(STEP)) {
        assertEquals("from seed 001", new String(c.receiveBytes(), StandardCharsets.UTF_8));
        c.sendBytes("from ferry".getBytes(StandardCharsets.UTF_8));
      }
      assertEquals("ok from ferry", lastLine(python));
    }
  }

  @Test
  void ferryListenerRefusesASeed001ClientWithAnotherKey() throws Exception {
    Address address = new Address.Unix(dir.resolve("seed.sock"));
    ConnectionOptions options = ConnectionOptions.builder().authKey(AuthKey.random()).build();
    try (Listener listener = Listener.bind(address, options)) {
      Peer python = seed001("client", dir.resolve("seed.sock").toString(), AuthKey.random());
      AuthenticationException e =
          assertThrows(AuthenticationException.class, () -> listener.accept(STEP).close());
      assertEquals("digest received was wrong", e.getMessage());
      assertEquals("error AuthenticationError: digest sent was rejected", lastLine(python));
    }
  }

  @Test
  void ferryClientWithSha256DigestAuthenticatesWithASeed001Listener() throws Exception {
    AuthKey key = AuthKey.random();
    Peer python = seed001("server", "-", key);
    try (Socket socket = connect(python);
        SocketHandshakeChannel channel = new SocketHandshakeChannel(socket)) {
      Handshake.clientSide(channel, key.bytes(), "sha256");
      byte[] first = channel.receiveMessage(100);
      assertEquals("from seed 001", new String(first, StandardCharsets.UTF_8));
      channel.sendMessage("from ferry".getBytes(StandardCharsets.UTF_8));
    }
    assertEquals("ok from ferry", lastLine(python));
  }

  @Test
  void ferryClientWithDefaultMd5IsRejectedByASeed001ListenerAsCpythonWouldBe() throws Exception {
    AuthKey key = AuthKey.random();
    Peer python = seed001("server", "-", key);
    try (Socket socket = connect(python);
        SocketHandshakeChannel channel = new SocketHandshakeChannel(socket)) {
      AuthenticationException e = assertThrows(AuthenticationException.class,
          () -> Handshake.clientSide(channel, key.bytes()));
      assertEquals("digest sent was rejected", e.getMessage());
    }
    assertEquals("error AuthenticationError: digest received was wrong", lastLine(python));
  }

  /** The script's process and its output, read line by line. */
  private record Peer(Process process, BufferedReader out) {}

  private static Peer seed001(String role, String address, AuthKey key) throws IOException {
    Path python = Pythons.require("3.13");
    Process p = new ProcessBuilder(python.toString(), "-c", SEED_001, role, address,
        HexFormat.of().formatHex(key.bytes()))
        .redirectErrorStream(true)
        .start();
    p.getOutputStream().close();
    return new Peer(p, new BufferedReader(
        new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
  }

  private static Socket connect(Peer python) throws IOException {
    String port = python.out().readLine();
    assertTrue(port != null && port.matches("\\d+"), "python printed " + port);
    Socket socket = new Socket("127.0.0.1", Integer.parseInt(port));
    socket.setSoTimeout((int) STEP.toMillis());
    return socket;
  }

  /** The last line the script printed, once it has exited. */
  private static String lastLine(Peer python) throws Exception {
    String last = "(nothing)";
    for (String line = python.out().readLine(); line != null; line = python.out().readLine()) {
      last = line;
    }
    python.out().close();
    assertTrue(python.process().waitFor(STEP.toSeconds(), TimeUnit.SECONDS), "python hung");
    return last;
  }
}
