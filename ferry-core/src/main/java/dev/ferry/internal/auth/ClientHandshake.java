package dev.ferry.internal.auth;

import dev.ferry.AuthenticationException;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The connecting side of the handshake as a state machine fed one received message at a time,
 * the mirror of {@link ServerHandshake}, so that an event loop can authenticate clients without
 * holding a thread.
 *
 * <pre>
 *   peer's challenge -&gt; our response
 *   peer's verdict   -&gt; #CHALLENGE#{sha256}nonce  (or the failure "digest sent was rejected")
 *   peer's response  -&gt; #WELCOME#, done           (or #FAILURE# and the failure)
 * </pre>
 *
 * Python: {@code answer_challenge} then {@code deliver_challenge}, as {@code Client} runs them.
 */
public final class ClientHandshake {
  private enum State { AWAIT_CHALLENGE, AWAIT_VERDICT, AWAIT_RESPONSE, DONE, FAILED }

  private final byte[] key;
  private final Supplier<byte[]> nonces;
  private byte[] challenge;
  private State state = State.AWAIT_CHALLENGE;

  public ClientHandshake(byte[] key) {
    this(key, Handshake.SECURE_NONCES);
  }

  ClientHandshake(byte[] key, Supplier<byte[]> nonces) {
    this.key = Objects.requireNonNull(key, "key == null");
    this.nonces = nonces;
  }

  /** Feeds the peer's next message, of at most 256 bytes. */
  public ServerHandshake.Step onMessage(byte[] message) {
    try {
      switch (state) {
        case AWAIT_CHALLENGE:
          byte[] answer = Handshake.answer(key, message);
          state = State.AWAIT_VERDICT;
          return new ServerHandshake.Step(List.of(answer), null);
        case AWAIT_VERDICT:
          Handshake.checkVerdict(message);
          challenge = Handshake.challengeBody(nonces);
          state = State.AWAIT_RESPONSE;
          return new ServerHandshake.Step(List.of(Handshake.challengeFrame(challenge)), null);
        case AWAIT_RESPONSE:
          try {
            Handshake.verify(key, challenge, message);
          } catch (AuthenticationException e) {
            state = State.FAILED;
            return new ServerHandshake.Step(List.of(Handshake.failure()), e); // as CPython does
          }
          state = State.DONE;
          return new ServerHandshake.Step(List.of(Handshake.welcome()), null);
        default:
          throw new IllegalStateException("no message expected in state " + state);
      }
    } catch (AuthenticationException e) {
      state = State.FAILED;
      return new ServerHandshake.Step(List.of(), e);
    }
  }

  public boolean isDone() {
    return state == State.DONE;
  }
}
