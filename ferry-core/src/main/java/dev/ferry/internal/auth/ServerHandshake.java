package dev.ferry.internal.auth;

import dev.ferry.AuthenticationException;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The accepting side of the handshake as a state machine fed one received message at a time, so
 * that one thread can drive many handshakes and no peer can hold a thread by staying silent.
 *
 * <pre>
 *   start()          -&gt; #CHALLENGE#{sha256}nonce
 *   peer's response  -&gt; #WELCOME#  (or #FAILURE# and the failure)
 *   peer's challenge -&gt; our response
 *   peer's verdict   -&gt; done       (or the failure "digest sent was rejected")
 * </pre>
 *
 * Python: {@code deliver_challenge} then {@code answer_challenge}, as {@code Listener.accept}
 * runs them.
 *
 * <p>A peer whose answer was a raw MAC (16 bytes of MD5 from CPython before 3.12, 32 of SHA-256
 * from seed 001's variant) gets its unprefixed challenge answered in that same digest; otherwise
 * an unprefixed challenge is answered in the digest given to the constructor (MD5 by default).
 */
public final class ServerHandshake {
  private enum State { NEW, AWAIT_RESPONSE, AWAIT_CHALLENGE, AWAIT_VERDICT, DONE, FAILED }

  /** What to send after a message, and the failure if the handshake is over for good. */
  public record Step(List<byte[]> replies, AuthenticationException failure) {}

  private final byte[] key;
  private final Supplier<byte[]> nonces;
  private final HmacDigest unprefixed;
  private byte[] challenge;
  /** The digest for the peer's unprefixed challenge: what its raw answer showed, if it was raw. */
  private HmacDigest peerUnprefixed;
  /** The digests of the peer's answer and of ours, once each is known. */
  private HmacDigest peerAnswered;
  private HmacDigest answered;
  private State state = State.NEW;
  /** Whether this side accepts a lane, and whether the peer's challenge asked for one. */
  private boolean offerLane;
  private boolean peerWantsLane;

  public ServerHandshake(byte[] key) {
    this(key, Handshake.SECURE_NONCES);
  }

  /**
   * A handshake that answers an unprefixed challenge in {@code unprefixedDigest} (as
   * {@code hashlib} names it) unless the peer's raw answer showed another digest.
   *
   * @throws IllegalArgumentException if {@code unprefixedDigest} is no digest this runtime has
   */
  public ServerHandshake(byte[] key, String unprefixedDigest) {
    this(key, HmacDigest.require(unprefixedDigest), Handshake.SECURE_NONCES);
  }

  ServerHandshake(byte[] key, Supplier<byte[]> nonces) {
    this(key, HmacDigest.MD5, nonces);
  }

  ServerHandshake(byte[] key, HmacDigest unprefixed, Supplier<byte[]> nonces) {
    this.key = Objects.requireNonNull(key, "key == null");
    this.unprefixed = Objects.requireNonNull(unprefixed, "unprefixed == null");
    this.peerUnprefixed = unprefixed;
    this.nonces = nonces;
  }

  /** Marks this side's challenge: "this listener accepts shared-memory lanes" (LANE.md 1.1). */
  public ServerHandshake offerLane() {
    if (state != State.NEW) throw new IllegalStateException("already started");
    offerLane = true;
    return this;
  }

  /** Whether both sides marked their challenges: the client now sends its lane offer. */
  public boolean laneAgreed() {
    return state == State.DONE && peerWantsLane;
  }

  /** The challenge to send first. */
  public byte[] start() {
    if (state != State.NEW) throw new IllegalStateException("already started");
    challenge = offerLane ? Handshake.challengeBody(nonces, Handshake.LANE_SERVER_MARKER)
        : Handshake.challengeBody(nonces);
    state = State.AWAIT_RESPONSE;
    return Handshake.challengeFrame(challenge);
  }

  /** Feeds the peer's next message, of at most 256 bytes. */
  public Step onMessage(byte[] message) {
    try {
      switch (state) {
        case AWAIT_RESPONSE:
          try {
            Handshake.Answered a = Handshake.verify(key, challenge, message, unprefixed);
            peerAnswered = a.digest();
            if (a.raw()) peerUnprefixed = a.digest();
          } catch (AuthenticationException e) {
            state = State.FAILED;
            return new Step(List.of(Handshake.failure()), e); // tell the peer, as CPython does
          }
          state = State.AWAIT_CHALLENGE;
          return new Step(List.of(Handshake.welcome()), null);
        case AWAIT_CHALLENGE:
          peerWantsLane = offerLane && Handshake.carriesMarker(message, Handshake.LANE_CLIENT_MARKER);
          byte[] answer = Handshake.answer(key, message, peerUnprefixed);
          answered = Handshake.answerDigest(message, peerUnprefixed);
          state = State.AWAIT_VERDICT;
          return new Step(List.of(answer), null);
        case AWAIT_VERDICT:
          Handshake.checkVerdict(message);
          state = State.DONE;
          return new Step(List.of(), null);
        default:
          throw new IllegalStateException("no message expected in state " + state);
      }
    } catch (AuthenticationException e) {
      state = State.FAILED;
      return new Step(List.of(), e);
    }
  }

  public boolean isDone() {
    return state == State.DONE;
  }

  /**
   * The digest the handshake used, once done: {@code sha256} between modern peers, {@code md5}
   * with a legacy one (20-byte challenges, raw HMAC-MD5 answers), {@code sha256} with one of seed
   * 001's kind; {@code "md5/sha256"} (the peer's answer's, then ours) if the two answers differ.
   *
   * @throws IllegalStateException if the handshake is not done
   */
  public String digest() {
    if (state != State.DONE) throw new IllegalStateException("handshake not done: " + state);
    return Handshake.digestName(peerAnswered, answered);
  }
}
