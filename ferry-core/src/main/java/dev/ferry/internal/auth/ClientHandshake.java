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
 *
 * <p>An unprefixed challenge is answered in the digest given to the constructor (MD5 by default,
 * as CPython; {@code "sha256"} for a server of seed 001's kind), and a raw answer to this side's
 * challenge is accepted in MD5, SHA-256 or that digest.
 */
public final class ClientHandshake {
  private enum State { AWAIT_CHALLENGE, AWAIT_VERDICT, AWAIT_RESPONSE, DONE, FAILED }

  private final byte[] key;
  private final Supplier<byte[]> nonces;
  private final HmacDigest unprefixed;
  private byte[] challenge;
  /** The digests of our answer and of the peer's, once each is known. */
  private HmacDigest answered;
  private HmacDigest peerAnswered;
  private State state = State.AWAIT_CHALLENGE;
  /** Whether this side wants a lane, and whether the server's challenge offered one. */
  private boolean wantLane;
  private boolean serverOffersLane;

  /** Asks for a shared-memory lane, if the server's challenge offers one (LANE.md 1.1). */
  public ClientHandshake wantLane() {
    if (state != State.AWAIT_CHALLENGE) throw new IllegalStateException("already started");
    wantLane = true;
    return this;
  }

  /** Whether both sides marked their challenges: this side now sends its lane offer. */
  public boolean laneAgreed() {
    return state == State.DONE && serverOffersLane;
  }

  public ClientHandshake(byte[] key) {
    this(key, Handshake.SECURE_NONCES);
  }

  /**
   * A handshake that answers an unprefixed challenge in {@code unprefixedDigest}, as
   * {@code hashlib} names it.
   *
   * @throws IllegalArgumentException if {@code unprefixedDigest} is no digest this runtime has
   */
  public ClientHandshake(byte[] key, String unprefixedDigest) {
    this(key, HmacDigest.require(unprefixedDigest), Handshake.SECURE_NONCES);
  }

  ClientHandshake(byte[] key, Supplier<byte[]> nonces) {
    this(key, HmacDigest.MD5, nonces);
  }

  ClientHandshake(byte[] key, HmacDigest unprefixed, Supplier<byte[]> nonces) {
    this.key = Objects.requireNonNull(key, "key == null");
    this.unprefixed = Objects.requireNonNull(unprefixed, "unprefixed == null");
    this.nonces = nonces;
  }

  /** Feeds the peer's next message, of at most 256 bytes. */
  public ServerHandshake.Step onMessage(byte[] message) {
    try {
      switch (state) {
        case AWAIT_CHALLENGE:
          serverOffersLane = wantLane && Handshake.carriesMarker(message, Handshake.LANE_SERVER_MARKER);
          byte[] answer = Handshake.answer(key, message, unprefixed);
          answered = Handshake.answerDigest(message, unprefixed);
          state = State.AWAIT_VERDICT;
          return new ServerHandshake.Step(List.of(answer), null);
        case AWAIT_VERDICT:
          Handshake.checkVerdict(message);
          challenge = serverOffersLane
              ? Handshake.challengeBody(nonces, Handshake.LANE_CLIENT_MARKER)
              : Handshake.challengeBody(nonces);
          state = State.AWAIT_RESPONSE;
          return new ServerHandshake.Step(List.of(Handshake.challengeFrame(challenge)), null);
        case AWAIT_RESPONSE:
          try {
            peerAnswered = Handshake.verify(key, challenge, message, unprefixed).digest();
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

  /**
   * The digest the handshake used, once done, as {@link ServerHandshake#digest()} words it.
   *
   * @throws IllegalStateException if the handshake is not done
   */
  public String digest() {
    if (state != State.DONE) throw new IllegalStateException("handshake not done: " + state);
    return Handshake.digestName(peerAnswered, answered);
  }
}
