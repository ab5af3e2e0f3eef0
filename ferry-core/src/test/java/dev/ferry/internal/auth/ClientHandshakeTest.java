package dev.ferry.internal.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The client state machine against the server one, message by message. */
class ClientHandshakeTest {
  private static final byte[] KEY = "secret".getBytes(UTF_8);

  private static byte[] only(ServerHandshake.Step step) {
    assertNull(step.failure());
    assertEquals(1, step.replies().size());
    return step.replies().get(0);
  }

  @Test
  void completesAgainstTheServerStateMachine() {
    ServerHandshake server = new ServerHandshake(KEY);
    ClientHandshake client = new ClientHandshake(KEY);
    byte[] answer = only(client.onMessage(server.start()));
    byte[] welcome = only(server.onMessage(answer));
    byte[] challenge = only(client.onMessage(welcome));
    byte[] response = only(server.onMessage(challenge));
    byte[] verdict = only(client.onMessage(response));
    assertArrayEquals(Handshake.welcome(), verdict);
    assertTrue(client.isDone());
    assertNull(server.onMessage(verdict).failure());
    assertTrue(server.isDone());
  }

  @Test
  void refusesAServerThatAnswersWithAnotherKey() throws Exception {
    ServerHandshake server = new ServerHandshake(KEY);
    ClientHandshake client = new ClientHandshake(KEY);
    byte[] welcome = only(server.onMessage(only(client.onMessage(server.start()))));
    byte[] challenge = only(client.onMessage(welcome));
    byte[] wrong = Handshake.answer("other".getBytes(UTF_8), challenge);
    ServerHandshake.Step step = client.onMessage(wrong);
    assertEquals("digest received was wrong", step.failure().getMessage());
    assertEquals(1, step.replies().size());
    assertArrayEquals(Handshake.failure(), step.replies().get(0)); // told, as CPython does
    assertFalse(client.isDone());
  }

  @Test
  void reportsARejectedDigestAndAMissingChallenge() {
    ClientHandshake client = new ClientHandshake(KEY);
    assertEquals("Protocol error, expected challenge: message=b'#WELCOME#'",
        client.onMessage(Handshake.welcome()).failure().getMessage());
    ClientHandshake other = new ClientHandshake(KEY);
    other.onMessage(Handshake.challengeFrame(Handshake.challengeBody(Handshake.SECURE_NONCES)));
    assertEquals("digest sent was rejected", other.onMessage(Handshake.failure()).failure().getMessage());
  }
}
