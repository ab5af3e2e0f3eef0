package dev.ferry.internal.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.AuthenticationException;
import dev.ferry.GoldenVectors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Replays handshakes recorded between real CPython interpreters (see {@code
 * tools/golden/make_vectors.py}) with Ferry in the place of one side: the recorded peer's frames
 * are fed in, and every frame Ferry sends must equal, byte for byte, what the CPython it replaces
 * sent. Ferry's nonce is taken from the recorded challenge, so the challenges match too.
 */
final class GoldenHandshakeTest {
  private static final byte[] CHALLENGE_PREFIX =
      "#CHALLENGE#{sha256}".getBytes(StandardCharsets.US_ASCII);

  /** Cases in which CPython 3.13 played {@code role}, which Ferry can therefore replace whole. */
  @ParameterizedTest(name = "{0} as {1}")
  @CsvSource({
    "s313-c313, server",
    "s313-c313, client",
    "s27-c313, client",
    "s313-c27, server",
    "s313-c313-wrongkey, server",
    "s313-c313-wrongkey, client",
    "s313-c313-emptykey, server",
    "s313-c313-emptykey, client",
  })
  void replaysCpythonHandshakeByteForByte(String name, String role) throws IOException {
    Recording recording = new Recording(name, role);
    byte[] key = GoldenVectors.get("hs." + name + "." + role + ".key");

    String outcome = "ok";
    try {
      if (role.equals("server")) {
        Handshake.serverSide(recording, key, recording.recordedNonce());
      } else {
        Handshake.clientSide(recording, key, recording.recordedNonce());
      }
    } catch (AuthenticationException e) {
      outcome = "AuthenticationError: " + e.getMessage();
    }
    assertEquals(GoldenVectors.text("hs." + name + "." + role + ".outcome"), outcome);
    recording.assertFinished();
  }

  @Test
  void answersLegacyChallengesLikeCpython27() throws IOException {
    byte[] key = GoldenVectors.get("hs.s27-c27.server.key");
    // 2.7 only ever sends 20-byte challenges, which Ferry never does; replay the answering halves.
    Recording asClient = new Recording("s27-c27", "client", 1, 3);
    Handshake.answerChallenge(asClient, key);
    asClient.assertFinished();

    Recording asServer = new Recording("s27-c27", "server", 4, 6);
    Handshake.answerChallenge(asServer, key);
    asServer.assertFinished();
  }

  /**
   * A recorded handshake seen from one side. Receives return the peer's recorded frames; sends
   * must equal this side's recorded frames, in the recorded order.
   */
  private static final class Recording implements HandshakeChannel {
    private final List<Step> steps = new ArrayList<>();
    private final String name;
    private int next;

    private record Step(int number, boolean ours, byte[] payload) {}

    Recording(String name, String role) {
      this(name, role, 1, Integer.MAX_VALUE);
    }

    Recording(String name, String role, int first, int last) {
      this.name = name;
      String ours = role.equals("server") ? "s2c" : "c2s";
      for (int n = first; n <= last; n++) {
        String prefix = "hs." + name + "." + n + ".";
        boolean fromServer = GoldenVectors.contains(prefix + "s2c");
        if (!fromServer && !GoldenVectors.contains(prefix + "c2s")) {
          break;
        }
        String direction = fromServer ? "s2c" : "c2s";
        byte[] frame = GoldenVectors.get(prefix + direction);
        steps.add(new Step(n, direction.equals(ours), GoldenVectors.payload(frame)));
      }
      assertTrue(steps.size() >= 3, "too few frames recorded for " + name);
    }

    /** Supplies the nonce this side used in its recorded challenge, if it sent one. */
    Supplier<byte[]> recordedNonce() {
      for (Step step : steps) {
        if (step.ours() && startsWith(step.payload(), CHALLENGE_PREFIX)) {
          byte[] nonce =
              Arrays.copyOfRange(step.payload(), CHALLENGE_PREFIX.length, step.payload().length);
          return nonce::clone;
        }
      }
      // This side never challenged (it failed first): a nonce request is itself a mismatch.
      return () -> {
        throw new AssertionError(name + ": challenged where CPython did not");
      };
    }

    @Override
    public void sendMessage(byte[] message) {
      Step step = take();
      assertTrue(step.ours(), name + ": sent frame " + step.number() + ", which the peer sends");
      assertArrayEquals(
          step.payload(), message, name + ": frame " + step.number() + " differs from CPython's");
    }

    @Override
    public byte[] receiveMessage(int maxLength) {
      Step step = take();
      assertEquals(256, maxLength, "CPython reads every handshake frame with recv_bytes(256)");
      assertTrue(!step.ours(), name + ": waited for frame " + step.number() + ", which it sends");
      return step.payload().clone();
    }

    void assertFinished() {
      assertEquals(steps.size(), next, name + ": frames left unexchanged");
    }

    private Step take() {
      assertTrue(next < steps.size(), name + ": more frames than CPython exchanged");
      return steps.get(next++);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
      return bytes.length >= prefix.length
          && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }
  }
}
