package dev.ferry.internal.auth;

import dev.ferry.AuthenticationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The mutual HMAC handshake of CPython's {@code multiprocessing.connection}, byte for byte as
 * CPython 3.13 runs it, and able to talk to every peer back to Python 2.7.
 *
 * <p>Each side proves it knows the key by answering the other's challenge. The server challenges
 * first, so a full handshake is six frames:
 *
 * <pre>{@code
 * server                                                 client
 *   | --- #CHALLENGE#{sha256} + 40 random bytes (59) ---> |  deliverChallenge / answerChallenge
 *   | <--- {sha256} + HMAC-SHA256(key, M)       (40) ---- |  M = all after #CHALLENGE#
 *   | --- #WELCOME# or #FAILURE#                 (9) ---> |
 *   | <--- #CHALLENGE#{sha256} + 40 random bytes (59) --- |  answerChallenge / deliverChallenge
 *   | --- {sha256} + HMAC-SHA256(key, M)        (40) ---> |
 *   | <--- #WELCOME# or #FAILURE#                (9) ---- |
 * }</pre>
 *
 * <p>Legacy peers (Python 2.7 to 3.11) send a 20-byte challenge body and answer with a raw 16-byte
 * HMAC-MD5. Ferry answers a 20-byte challenge the same way, and accepts a raw 16-byte MD5 answer to
 * its own challenge, which is how every generation interoperates (the legacy side MACs the whole
 * {@code {sha256}...} body with MD5). Ferry itself always sends the modern challenge.
 *
 * <p>Some distributions ship seed 001's variant ({@code HMAC_DIGEST_NAME='sha256'}): 20-byte
 * challenges, raw 32-byte HMAC-SHA256 answers, no prefixes. Ferry accepts a raw 32-byte
 * HMAC-SHA256 answer to its challenge without being told; the server side then answers that
 * peer's unprefixed challenge in HMAC-SHA256 too, since the peer has shown what it is. Otherwise
 * an unprefixed challenge is answered with the <em>unprefixed digest</em> given
 * ({@link #DEFAULT_UNPREFIXED_DIGEST} unless a caller names another, as a Ferry client must for
 * such a server), and a raw answer as long as that digest's MAC is accepted in it too.
 *
 * <p>Exception messages are CPython's, so logs read the same on both ends. Every read is capped at
 * 256 bytes like CPython's {@code recv_bytes(256)}; a longer message surfaces from the channel as
 * {@link dev.ferry.MessageTooLargeException}, not as an authentication failure. The methods keep no
 * state; a channel must be used by one handshake at a time.
 *
 * <p>Python: {@code deliver_challenge}, {@code answer_challenge}, and the sequences in
 * {@code Listener.accept} and {@code Client}.
 */
public final class Handshake {
  /** Every handshake read is capped here, as CPython's {@code recv_bytes(256)} does. */
  public static final int MAX_MESSAGE_LENGTH = 256;

  /** Random bytes after {@code {sha256}} in a challenge; CPython's {@code MESSAGE_LENGTH}. */
  static final int NONCE_LENGTH = 40;

  /** A challenge body of this length comes from a legacy, MD5-only peer. */
  private static final int LEGACY_CHALLENGE_LENGTH = 20;

  /** A response of this length is a legacy raw HMAC-MD5. */
  private static final int LEGACY_RESPONSE_LENGTH = 16;

  /** The digest of an unprefixed challenge unless a caller names another: CPython's MD5. */
  public static final String DEFAULT_UNPREFIXED_DIGEST = "md5";

  private static final byte[] CHALLENGE = ascii("#CHALLENGE#");
  private static final byte[] WELCOME = ascii("#WELCOME#");
  private static final byte[] FAILURE = ascii("#FAILURE#");

  /** The digest Ferry offers; CPython's Listener and Client always offer this one too. */
  private static final HmacDigest OFFERED = HmacDigest.SHA256;

  private static final SecureRandom RANDOM = new SecureRandom();

  /** Fresh nonces for real handshakes; tests pass fixed ones to replay CPython's recordings. */
  static final Supplier<byte[]> SECURE_NONCES =
      () -> {
        byte[] nonce = new byte[NONCE_LENGTH];
        RANDOM.nextBytes(nonce);
        return nonce;
      };

  private Handshake() {}

  /**
   * Runs the accepting side: challenges the peer, then answers the peer's challenge. Returns
   * once both sides have been welcomed, with the digest the handshake used ({@link
   * ServerHandshake#digest()}). Blocks in the channel's reads, which carry the
   * deadline.
   *
   * <p>Python: the handshake in {@code Listener.accept()}.
   *
   * @throws AuthenticationException if either proof fails; see {@link #deliverChallenge} and
   *     {@link #answerChallenge}
   * @throws IOException whatever the channel throws: {@code MessageTooLargeException} for a
   *     message over 256 bytes, {@code EOFException}, {@code SocketTimeoutException}
   */
  public static String serverSide(HandshakeChannel channel, byte[] key) throws IOException {
    return serverSide(channel, key, SECURE_NONCES);
  }

  /**
   * {@link #serverSide(HandshakeChannel, byte[])}, answering an unprefixed challenge with
   * {@code unprefixedDigest} unless the peer's own answer showed another.
   *
   * @throws IllegalArgumentException if {@code unprefixedDigest} is no digest this runtime has
   */
  public static String serverSide(HandshakeChannel channel, byte[] key, String unprefixedDigest)
      throws IOException {
    return serverSide(channel, key, HmacDigest.require(unprefixedDigest), SECURE_NONCES);
  }

  static String serverSide(HandshakeChannel channel, byte[] key, Supplier<byte[]> nonces)
      throws IOException {
    return serverSide(channel, key, HmacDigest.MD5, nonces);
  }

  static String serverSide(HandshakeChannel channel, byte[] key, HmacDigest unprefixed,
      Supplier<byte[]> nonces) throws IOException {
    ServerHandshake handshake = new ServerHandshake(key, unprefixed, nonces);
    channel.sendMessage(handshake.start());
    drive(channel, handshake::onMessage, handshake::isDone);
    return handshake.digest();
  }

  /** Feeds {@code onMessage} the peer's messages and sends its replies until {@code done}. */
  private static void drive(HandshakeChannel channel,
      Function<byte[], ServerHandshake.Step> onMessage, BooleanSupplier done) throws IOException {
    while (!done.getAsBoolean()) {
      ServerHandshake.Step step = onMessage.apply(channel.receiveMessage(MAX_MESSAGE_LENGTH));
      try {
        for (byte[] reply : step.replies()) channel.sendMessage(reply);
      } catch (IOException sendFailed) {
        if (step.failure() == null) throw sendFailed;
        step.failure().addSuppressed(sendFailed);
      }
      if (step.failure() != null) throw step.failure();
    }
  }

  /**
   * Runs the connecting side: answers the peer's challenge, then challenges the peer. Returns
   * once both sides have been welcomed, with the digest the handshake used ({@link
   * ClientHandshake#digest()}).
   *
   * <p>Python: the handshake in {@code Client()}.
   *
   * @throws AuthenticationException if either proof fails; see {@link #answerChallenge} and
   *     {@link #deliverChallenge}
   * @throws IOException whatever the channel throws
   */
  public static String clientSide(HandshakeChannel channel, byte[] key) throws IOException {
    return clientSide(channel, key, SECURE_NONCES);
  }

  /**
   * {@link #clientSide(HandshakeChannel, byte[])}, answering an unprefixed challenge with
   * {@code unprefixedDigest} ({@code "sha256"} for a server of seed 001's kind).
   *
   * @throws IllegalArgumentException if {@code unprefixedDigest} is no digest this runtime has
   */
  public static String clientSide(HandshakeChannel channel, byte[] key, String unprefixedDigest)
      throws IOException {
    return clientSide(channel, key, HmacDigest.require(unprefixedDigest), SECURE_NONCES);
  }

  static String clientSide(HandshakeChannel channel, byte[] key, Supplier<byte[]> nonces)
      throws IOException {
    return clientSide(channel, key, HmacDigest.MD5, nonces);
  }

  /**
   * {@link #clientSide(HandshakeChannel, byte[], String)}, asking for a shared-memory lane if
   * {@code wantLane}; returns the finished handshake, whose {@link ClientHandshake#laneAgreed()}
   * says whether the client must now offer one.
   */
  public static ClientHandshake clientSide(HandshakeChannel channel, byte[] key,
      String unprefixedDigest, boolean wantLane) throws IOException {
    ClientHandshake handshake = new ClientHandshake(key, unprefixedDigest);
    if (wantLane) handshake.wantLane();
    drive(channel, handshake::onMessage, handshake::isDone);
    return handshake;
  }

  static String clientSide(HandshakeChannel channel, byte[] key, HmacDigest unprefixed,
      Supplier<byte[]> nonces) throws IOException {
    Objects.requireNonNull(channel, "channel == null");
    ClientHandshake handshake = new ClientHandshake(key, unprefixed, nonces);
    drive(channel, handshake::onMessage, handshake::isDone);
    return handshake.digest();
  }

  /**
   * Challenges the peer to prove it knows {@code key}. Sends {@code #CHALLENGE#{sha256}} and 40
   * bytes from a {@link SecureRandom}, reads the answer, and sends {@code #WELCOME#} if it is a
   * correct HMAC of everything after {@code #CHALLENGE#}. The answer may use any allowed digest
   * ({@code {md5}}, {@code {sha256}}, {@code {sha384}}, {@code {sha3_256}}, {@code {sha3_384}}
   * followed by the MAC), be a raw 16-byte HMAC-MD5 from a legacy peer, or a raw 32-byte
   * HMAC-SHA256 from a peer of seed 001's kind; it is compared in constant time. The empty key
   * is a valid key, as in CPython 3.13.
   *
   * <p>Python: {@code deliver_challenge}.
   *
   * @throws AuthenticationException after sending {@code #FAILURE#} to the peer, with one of
   *     CPython's messages: {@code "digest received was wrong"}; {@code "expected 'md5' of length
   *     16 got 20"} when the MAC has the wrong length for its digest; {@code "unsupported message
   *     length, missing digest prefix, or unsupported digest: message=b'...'"} when the answer
   *     names no allowed digest (e.g. {@code {sha512}}). If sending {@code #FAILURE#} itself
   *     fails, that error is attached as suppressed.
   * @throws IOException whatever the channel throws; a failed read sends no {@code #FAILURE#},
   *     as in CPython
   */
  public static void deliverChallenge(HandshakeChannel channel, byte[] key) throws IOException {
    deliverChallenge(channel, key, SECURE_NONCES);
  }

  /**
   * {@link #deliverChallenge(HandshakeChannel, byte[])}, also accepting a raw answer in
   * {@code unprefixedDigest}.
   *
   * @throws IllegalArgumentException if {@code unprefixedDigest} is no digest this runtime has
   */
  public static void deliverChallenge(HandshakeChannel channel, byte[] key,
      String unprefixedDigest) throws IOException {
    deliverChallenge(channel, key, HmacDigest.require(unprefixedDigest), SECURE_NONCES);
  }

  static void deliverChallenge(HandshakeChannel channel, byte[] key, Supplier<byte[]> nonces)
      throws IOException {
    deliverChallenge(channel, key, HmacDigest.MD5, nonces);
  }

  static void deliverChallenge(HandshakeChannel channel, byte[] key, HmacDigest unprefixed,
      Supplier<byte[]> nonces) throws IOException {
    Objects.requireNonNull(channel, "channel == null");
    Objects.requireNonNull(key, "key == null");
    byte[] message = challengeBody(nonces);
    channel.sendMessage(challengeFrame(message));
    byte[] response = channel.receiveMessage(MAX_MESSAGE_LENGTH);
    try {
      verify(key, message, response, unprefixed);
    } catch (AuthenticationException e) {
      // The peer is waiting for a verdict; tell it before giving up, as CPython does.
      try {
        channel.sendMessage(FAILURE);
      } catch (IOException sendFailed) {
        e.addSuppressed(sendFailed);
      }
      throw e;
    }
    channel.sendMessage(WELCOME);
  }

  /**
   * Proves to the peer that this side knows {@code key}: reads the peer's challenge, sends the
   * HMAC of its body, and reads the verdict. A 20-byte body comes from a legacy peer and gets a
   * raw HMAC-MD5; a body starting {@code {name}} gets {@code {name}} followed by HMAC-name over
   * the whole body, prefix included, for any digest {@code hashlib} names that the JDK has
   * ({@code md5}, {@code sha1}, {@code sha224} to {@code sha512}, {@code sha512_224},
   * {@code sha512_256}, {@code sha3_224} to {@code sha3_512}), not only CPython's five.
   *
   * <p>Python: {@code answer_challenge}.
   *
   * @throws AuthenticationException with one of CPython's messages: {@code "Protocol error,
   *     expected challenge: message=b'...'"} when the first message does not start with
   *     {@code #CHALLENGE#}; {@code "challenge too short: 16 bytes"} when the body is shorter
   *     than 20 bytes (CPython 3.12+ forgot the f-string prefix and prints the literal
   *     {@code {len(message)}}; Ferry prints the length CPython meant, and the text before it
   *     matches); {@code "digest not available in this java runtime: blake2b"} when the body
   *     names a {@code hashlib} digest the JDK lacks; {@code "unsupported message length, missing
   *     digest prefix, or unsupported digest: message=b'...'"} when it names no digest at all; in
   *     both cases nothing is sent; {@code "digest sent was rejected"} when the verdict is not
   *     {@code #WELCOME#}.
   * @throws IOException whatever the channel throws
   */
  public static void answerChallenge(HandshakeChannel channel, byte[] key) throws IOException {
    answerChallenge(channel, key, HmacDigest.MD5);
  }

  /**
   * {@link #answerChallenge(HandshakeChannel, byte[])}, answering an unprefixed challenge with
   * {@code unprefixedDigest} instead of MD5.
   *
   * @throws IllegalArgumentException if {@code unprefixedDigest} is no digest this runtime has
   */
  public static void answerChallenge(HandshakeChannel channel, byte[] key,
      String unprefixedDigest) throws IOException {
    answerChallenge(channel, key, HmacDigest.require(unprefixedDigest));
  }

  static void answerChallenge(HandshakeChannel channel, byte[] key, HmacDigest unprefixed)
      throws IOException {
    Objects.requireNonNull(channel, "channel == null");
    Objects.requireNonNull(key, "key == null");
    channel.sendMessage(answer(key, channel.receiveMessage(MAX_MESSAGE_LENGTH), unprefixed));
    checkVerdict(channel.receiveMessage(MAX_MESSAGE_LENGTH));
  }

  /**
   * Checks that {@code name} is a digest this runtime has, as {@code hashlib} spells it
   * ({@code md5}, {@code sha256}, {@code sha3_512}, ...), for options that name one.
   *
   * @throws IllegalArgumentException naming it: {@code "unknown digest: foo"}, or
   *     {@code "digest not available in this java runtime: blake2b"}
   */
  public static String requireDigest(String name) {
    Objects.requireNonNull(name, "digest == null");
    HmacDigest.require(name);
    return name;
  }

  /** The challenge message, {@code {sha256}} and the nonce: what the peer must MAC. */
  static byte[] challengeBody(Supplier<byte[]> nonces) {
    byte[] nonce = nonces.get();
    if (nonce.length != NONCE_LENGTH) {
      throw new IllegalStateException("nonce length != " + NONCE_LENGTH + ": " + nonce.length);
    }
    return concat(OFFERED.prefix(), nonce);
  }

  /**
   * The lane markers of docs/LANE.md 1.1: the first 8 of a challenge's 40 random bytes, so a stock
   * peer MACs them like the rest. The server's says it accepts lanes, the client's that it wants one.
   */
  static final byte[] LANE_SERVER_MARKER = ascii("FLANE-S1");
  static final byte[] LANE_CLIENT_MARKER = ascii("FLANE-C1");

  /** A challenge body whose nonce starts with {@code marker}. */
  static byte[] challengeBody(Supplier<byte[]> nonces, byte[] marker) {
    byte[] body = challengeBody(nonces);
    System.arraycopy(marker, 0, body, OFFERED.prefix().length, marker.length);
    return body;
  }

  /** Whether a received challenge message carries {@code marker} right after {@code {sha256}}. */
  static boolean carriesMarker(byte[] message, byte[] marker) {
    byte[] prefix = OFFERED.prefix();
    int at = CHALLENGE.length + prefix.length;
    if (message.length != at + NONCE_LENGTH) return false;
    return Arrays.equals(message, CHALLENGE.length, at, prefix, 0, prefix.length)
        && Arrays.equals(message, at, at + marker.length, marker, 0, marker.length);
  }

  static byte[] challengeFrame(byte[] body) {
    return concat(CHALLENGE, body);
  }

  static byte[] welcome() {
    return WELCOME.clone();
  }

  static byte[] failure() {
    return FAILURE.clone();
  }

  /** The reply to a received challenge; Python: the first half of {@code answer_challenge}. */
  static byte[] answer(byte[] key, byte[] received) throws AuthenticationException {
    return answer(key, received, HmacDigest.MD5);
  }

  /**
   * {@link #answer(byte[], byte[])}, with an unprefixed challenge answered in {@code unprefixed}.
   */
  static byte[] answer(byte[] key, byte[] received, HmacDigest unprefixed)
      throws AuthenticationException {
    if (!startsWith(received, CHALLENGE)) {
      throw new AuthenticationException(
          "Protocol error, expected challenge: message=" + PythonRepr.of(received));
    }
    byte[] message = Arrays.copyOfRange(received, CHALLENGE.length, received.length);
    if (message.length < LEGACY_CHALLENGE_LENGTH) {
      throw new AuthenticationException("challenge too short: " + message.length + " bytes");
    }
    return response(key, message, unprefixed);
  }

  static void checkVerdict(byte[] verdict) throws AuthenticationException {
    if (!Arrays.equals(verdict, WELCOME)) {
      throw new AuthenticationException("digest sent was rejected");
    }
  }

  /**
   * CPython's {@code _create_response}: the MAC covers the whole message, prefix included. Any
   * digest the JDK has is answered, not only CPython's five.
   */
  private static byte[] response(byte[] key, byte[] message, HmacDigest unprefixed)
      throws AuthenticationException {
    Tagged tagged = Tagged.ofChallenge(message, unprefixed);
    byte[] mac = tagged.digest().mac(key, message);
    return tagged.prefixed() ? concat(tagged.digest().prefix(), mac) : mac;
  }

  /** CPython's {@code _verify_challenge}, with unprefixed answers in MD5 only. */
  static void verify(byte[] key, byte[] message, byte[] response)
      throws AuthenticationException {
    verify(key, message, response, HmacDigest.MD5);
  }

  /**
   * CPython's {@code _verify_challenge}, also accepting a raw answer in HMAC-SHA256 or in
   * {@code unprefixed}. Returns the digest of the answer and whether it was raw (then the peer has
   * shown what it uses without prefixes).
   */
  static Answered verify(byte[] key, byte[] message, byte[] response,
      HmacDigest unprefixed) throws AuthenticationException {
    Tagged tagged = Tagged.ofResponse(response, unprefixed);
    byte[] expected = tagged.digest().mac(key, message);
    byte[] received = tagged.payload();
    if (expected.length != received.length) {
      throw new AuthenticationException(
          "expected '" + tagged.digest().pythonName() + "' of length " + expected.length
              + " got " + received.length);
    }
    if (!MessageDigest.isEqual(expected, received)) {
      throw new AuthenticationException("digest received was wrong");
    }
    return new Answered(tagged.digest(), !tagged.prefixed());
  }

  /** The digest of a verified answer, and whether it came raw (without a {@code {name}} prefix). */
  record Answered(HmacDigest digest, boolean raw) {}

  /**
   * The digest this side answers {@code received} (a challenge {@link #answer} accepted) in: the
   * one its prefix names, else {@code unprefixed}.
   */
  static HmacDigest answerDigest(byte[] received, HmacDigest unprefixed)
      throws AuthenticationException {
    byte[] message = Arrays.copyOfRange(received, CHALLENGE.length, received.length);
    return Tagged.ofChallenge(message, unprefixed).digest();
  }

  /**
   * A handshake's digest in words: one name when both answers used it ({@code sha256} for two
   * modern peers, {@code md5} with a legacy one), else the peer's answer's and this side's,
   * {@code "md5/sha256"}.
   */
  static String digestName(HmacDigest peers, HmacDigest ours) {
    return peers == ours ? peers.pythonName() : peers.pythonName() + "/" + ours.pythonName();
  }

  /**
   * A challenge body or response split into its digest and payload. Legacy messages (16 or 20
   * bytes) have no prefix. Python: {@code _get_digest_name_and_payload}.
   */
  private record Tagged(HmacDigest digest, boolean prefixed, byte[] payload) {
    /**
     * A challenge body: a legacy one is answered in {@code unprefixed}; a prefixed one may name
     * any digest the JDK has, and one it lacks fails naming it.
     */
    static Tagged ofChallenge(byte[] message, HmacDigest unprefixed)
        throws AuthenticationException {
      if (message.length == LEGACY_CHALLENGE_LENGTH || message.length == LEGACY_RESPONSE_LENGTH) {
        return new Tagged(unprefixed, false, message);
      }
      Optional<String> name = prefixName(message);
      if (name.isPresent() && HmacDigest.isKnownButMissing(name.get())) {
        throw new AuthenticationException(
            "digest not available in this java runtime: " + name.get());
      }
      Optional<HmacDigest> digest = name.flatMap(HmacDigest::forPythonName);
      if (digest.isPresent()) return prefixed(digest.get(), name.get(), message);
      throw unsupported(message);
    }

    /**
     * A response: 16 or 20 bytes mean MD5 as in CPython; a prefix must name one of CPython's
     * five; else a raw HMAC-SHA256 (seed 001) or a raw MAC as long as {@code unprefixed}'s.
     */
    static Tagged ofResponse(byte[] message, HmacDigest unprefixed)
        throws AuthenticationException {
      if (message.length == LEGACY_CHALLENGE_LENGTH || message.length == LEGACY_RESPONSE_LENGTH) {
        return new Tagged(HmacDigest.MD5, false, message);
      }
      Optional<String> name = prefixName(message);
      Optional<HmacDigest> digest =
          name.flatMap(HmacDigest::forPythonName).filter(HmacDigest::isCpythonAllowed);
      if (digest.isPresent()) return prefixed(digest.get(), name.get(), message);
      // No prefixed answer is 32 bytes long ({md5} and 16 is 21), so this is never ambiguous.
      if (message.length == HmacDigest.SHA256.macLength()) {
        return new Tagged(HmacDigest.SHA256, false, message);
      }
      if (message.length == unprefixed.macLength()) return new Tagged(unprefixed, false, message);
      throw unsupported(message);
    }

    /** Like {@code message.find(b'}', 1, ...)}: the first brace after the opening one. */
    private static Optional<String> prefixName(byte[] message) {
      if (message.length == 0 || message[0] != '{') return Optional.empty();
      int end = Math.min(message.length, HmacDigest.MAX_NAME_LENGTH + 2);
      for (int i = 1; i < end; i++) {
        if (message[i] == '}') {
          return Optional.of(new String(message, 1, i - 1, StandardCharsets.US_ASCII));
        }
      }
      return Optional.empty();
    }

    private static Tagged prefixed(HmacDigest digest, String name, byte[] message) {
      int start = name.length() + 2;
      return new Tagged(digest, true, Arrays.copyOfRange(message, start, message.length));
    }

    private static AuthenticationException unsupported(byte[] message) {
      return new AuthenticationException(
          "unsupported message length, missing digest prefix, or unsupported digest: message="
              + PythonRepr.of(message));
    }
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    return bytes.length >= prefix.length
        && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] joined = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, joined, a.length, b.length);
    return joined;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
