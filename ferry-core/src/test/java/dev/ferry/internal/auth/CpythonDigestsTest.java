package dev.ferry.internal.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.AuthKey;
import dev.ferry.AuthenticationException;
import dev.ferry.Pythons;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A challenge naming each digest, checked by a real CPython 3.13: its own
 * {@code deliver_challenge(digest_name=...)} for the five it allows, and for every other
 * {@code hashlib} name the same steps with the MAC checked by {@code hmac} directly (CPython's
 * verifier refuses those names, though its {@code deliver_challenge} sends them).
 */
class CpythonDigestsTest {
  private static final String PYTHON = String.join("\n",
      "import hmac, os, sys",
      "from multiprocessing import connection",
      "from multiprocessing.connection import Listener",
      "digest, key = sys.argv[1], bytes.fromhex(sys.argv[2])",
      "listener = Listener(('127.0.0.1', 0))",
      "print(listener.address[1], flush=True)",
      "c = listener.accept()",
      "try:",
      "    if digest.encode() in connection._ALLOWED_DIGESTS:",
      "        connection.deliver_challenge(c, key, digest_name=digest)",
      "    else:  # deliver_challenge's steps, with the MAC checked by hmac itself",
      "        message = ('{%s}' % digest).encode() + os.urandom(40)",
      "        c.send_bytes(b'#CHALLENGE#' + message)",
      "        expected = ('{%s}' % digest).encode() + hmac.new(key, message, digest).digest()",
      "        ok = hmac.compare_digest(c.recv_bytes(256), expected)",
      "        c.send_bytes(b'#WELCOME#' if ok else b'#FAILURE#')",
      "        if not ok:",
      "            raise connection.AuthenticationError('digest received was wrong')",
      "    print('ok ' + digest)",
      "except Exception as e:",
      "    print('error %s: %s' % (type(e).__name__, e))",
      "");

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"md5", "sha256", "sha384", "sha3_256", "sha3_384", "sha1", "sha224",
      "sha512", "sha512_224", "sha512_256", "sha3_224", "sha3_512"})
  void answersEachDigestAsCpythonComputesIt(String digest) throws Exception {
    AuthKey key = AuthKey.random();
    Process python = start(digest, key);
    try (BufferedReader out = lines(python);
        SocketHandshakeChannel channel = connect(out)) {
      Handshake.answerChallenge(channel, key.bytes());
      assertEquals("ok " + digest, out.readLine());
    }
    assertTrue(python.waitFor(20, TimeUnit.SECONDS), "python hung");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sha256", "sha512"})
  void aWrongKeyIsRefusedByCpythonInEachDigest(String digest) throws Exception {
    Process python = start(digest, AuthKey.random());
    try (BufferedReader out = lines(python);
        SocketHandshakeChannel channel = connect(out)) {
      AuthenticationException e = assertThrows(AuthenticationException.class,
          () -> Handshake.answerChallenge(channel, AuthKey.random().bytes()));
      assertEquals("digest sent was rejected", e.getMessage());
      assertEquals("error AuthenticationError: digest received was wrong", out.readLine());
    }
    assertTrue(python.waitFor(20, TimeUnit.SECONDS), "python hung");
  }

  private static Process start(String digest, AuthKey key) throws IOException {
    Path python = Pythons.require("3.13");
    Process p = new ProcessBuilder(python.toString(), "-c", PYTHON, digest,
        HexFormat.of().formatHex(key.bytes()))
        .redirectErrorStream(true)
        .start();
    p.getOutputStream().close();
    return p;
  }

  private static BufferedReader lines(Process python) {
    return new BufferedReader(new InputStreamReader(python.getInputStream(),
        StandardCharsets.UTF_8));
  }

  private static SocketHandshakeChannel connect(BufferedReader out) throws IOException {
    String port = out.readLine();
    assertTrue(port != null && port.matches("\\d+"), "python printed " + port);
    Socket socket = new Socket("127.0.0.1", Integer.parseInt(port));
    socket.setSoTimeout(20_000);
    return new SocketHandshakeChannel(socket);
  }
}
