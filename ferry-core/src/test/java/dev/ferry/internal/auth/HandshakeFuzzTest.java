package dev.ferry.internal.auth;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.ferry.AuthenticationException;
import dev.ferry.MessageTooLargeException;
import java.io.EOFException;
import java.util.ArrayList;
import java.util.List;

/**
 * Coverage-guided fuzzing of both sides of the handshake against a peer that says anything: the
 * accept loop's {@link ServerHandshake} state machine, and the blocking client and server sides.
 * The only outcomes allowed are success, an {@link AuthenticationException}, a message over the
 * 256-byte cap ({@link MessageTooLargeException}), or the end of the peer's script
 * ({@link EOFException}); and a success must mean the peer really held the key.
 *
 * <p>Fuzzing for real, one target at a time:
 * {@code JAZZER_FUZZ=1 ./mvnw -o -pl ferry-core test -Dtest='HandshakeFuzzTest#serverStateMachine'
 * -Djazzer.max_duration=10m}.
 */
class HandshakeFuzzTest {
  private static final byte[] NONCE = new byte[Handshake.NONCE_LENGTH];

  private static List<byte[]> messages(FuzzedDataProvider data) {
    List<byte[]> messages = new ArrayList<>();
    int count = data.consumeInt(0, 4);
    for (int i = 0; i < count; i++) messages.add(data.consumeBytes(data.consumeInt(0, 300)));
    return messages;
  }

  @FuzzTest(maxDuration = "4s")
  void serverStateMachine(FuzzedDataProvider data) {
    byte[] key = data.consumeBytes(data.consumeInt(0, 64));
    ServerHandshake server = new ServerHandshake(key, () -> NONCE.clone());
    server.start();
    for (byte[] message : messages(data)) {
      if (message.length > Handshake.MAX_MESSAGE_LENGTH) return; // the framing refuses these first
      ServerHandshake.Step step = server.onMessage(message);
      if (step == null || step.replies() == null) throw new AssertionError("no step");
      if (step.failure() != null || server.isDone()) return;
    }
  }

  @FuzzTest(maxDuration = "4s")
  void clientSide(FuzzedDataProvider data) throws Exception {
    byte[] key = data.consumeBytes(data.consumeInt(0, 64));
    List<byte[]> script = messages(data);
    ScriptedChannel channel = new ScriptedChannel(script.toArray(new byte[0][]));
    try {
      Handshake.clientSide(channel, key, () -> NONCE.clone());
    } catch (AuthenticationException | MessageTooLargeException | EOFException expected) {
      return;
    }
    // Success: the script's third message must be a valid proof over our fixed challenge.
    Handshake.verify(key, Handshake.challengeBody(() -> NONCE.clone()), script.get(2));
  }

  @FuzzTest(maxDuration = "4s")
  void blockingServerSide(FuzzedDataProvider data) throws Exception {
    byte[] key = data.consumeBytes(data.consumeInt(0, 64));
    List<byte[]> script = messages(data);
    ScriptedChannel channel = new ScriptedChannel(script.toArray(new byte[0][]));
    try {
      Handshake.serverSide(channel, key, () -> NONCE.clone());
    } catch (AuthenticationException | MessageTooLargeException | EOFException expected) {
      return;
    }
    // Success: the script's first message must be a valid proof over our fixed challenge.
    Handshake.verify(key, Handshake.challengeBody(() -> NONCE.clone()), script.get(0));
  }
}
