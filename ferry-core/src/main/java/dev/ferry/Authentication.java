package dev.ferry;

import dev.ferry.internal.auth.Handshake;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.internal.transport.Deadlines;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Objects;

/**
 * The two halves of the HMAC handshake, on a connection that is already open: to authenticate
 * after the fact, over a connection adopted from an inherited descriptor, or in an order of one's
 * own. {@link Listener} and {@link Client} run both halves themselves when their options carry a
 * key; these are for everything else.
 *
 * <p>The wire bytes, the digests accepted and the failure messages are CPython's: a Python peer
 * calling {@code multiprocessing.connection.answer_challenge(conn, key)} or
 * {@code deliver_challenge(conn, key)} on its end pairs with these calls on Ferry's (one side
 * delivers while the other answers, then, for mutual authentication, the other way round).
 *
 * <pre>{@code
 * Connection c = Inherited.connection(3, Access.DUPLEX, options);
 * Authentication.deliverChallenge(c, key); // the Python parent calls answer_challenge
 * Authentication.answerChallenge(c, key);  // ... then deliver_challenge
 * }</pre>
 *
 * <p>Each call waits at most the connection's {@link ConnectionOptions#handshakeTimeout()} (or
 * the timeout given) for all the peer's messages together: CPython waits forever. A failure leaves
 * the connection open, as in CPython (unless a timeout cut a message short: then it closes, as
 * after any receive); it is the caller's to close. The connection must not be
 * used for anything else meanwhile, and must be a Ferry connection receiving blocking, not one
 * an event loop receives for.
 */
public final class Authentication {
  private Authentication() {}

  /**
   * Challenges the peer to prove it knows {@code key}: sends {@code #CHALLENGE#{sha256}} and 40
   * random bytes, reads the answer, and sends {@code #WELCOME#} if it is right (any digest
   * CPython accepts, a legacy raw HMAC-MD5, or a raw HMAC in the connection's
   * {@link ConnectionOptions#unprefixedDigest()}), else {@code #FAILURE#}.
   *
   * <p>Python: {@code deliver_challenge(connection, authkey)}.
   *
   * @throws AuthenticationException with CPython's message, after sending {@code #FAILURE#}:
   *     {@code "digest received was wrong"}, {@code "expected 'md5' of length 16 got 20"}, or
   *     {@code "unsupported message length, missing digest prefix, or unsupported digest:
   *     message=b'...'"}
   * @throws SocketTimeoutException if the answer does not come within the handshake timeout
   * @throws IOException whatever the connection throws: {@link java.io.EOFException} when the
   *     peer closed, {@link MessageTooLargeException} for an answer over 256 bytes
   */
  public static void deliverChallenge(Connection connection, AuthKey key) throws IOException {
    deliverChallenge(connection, key, framed(connection).options().handshakeTimeout());
  }

  /** As {@link #deliverChallenge(Connection, AuthKey)}, waiting at most {@code timeout}. */
  public static void deliverChallenge(Connection connection, AuthKey key, Duration timeout)
      throws IOException {
    FramedConnection c = framed(connection);
    Objects.requireNonNull(key, "key");
    long deadline = Deadlines.after(Objects.requireNonNull(timeout, "timeout"));
    Handshake.deliverChallenge(c.handshakeChannel(deadline), key.bytes(),
        c.options().unprefixedDigest());
  }

  /**
   * Proves to the peer that this side knows {@code key}: reads the peer's challenge, sends its
   * HMAC (in the digest the challenge names, raw HMAC-MD5 for a legacy 20-byte challenge, or the
   * connection's {@link ConnectionOptions#unprefixedDigest()} for any other unprefixed one), and
   * reads the verdict.
   *
   * <p>Python: {@code answer_challenge(connection, authkey)}.
   *
   * @throws AuthenticationException with CPython's message: {@code "digest sent was rejected"}
   *     when the peer answers {@code #FAILURE#}; {@code "Protocol error, expected challenge:
   *     message=b'...'"} when the first message is no challenge; {@code "challenge too short: 16
   *     bytes"}; {@code "digest not available in this java runtime: blake2b"}
   * @throws SocketTimeoutException if the challenge or the verdict does not come within the
   *     handshake timeout
   * @throws IOException whatever the connection throws
   */
  public static void answerChallenge(Connection connection, AuthKey key) throws IOException {
    answerChallenge(connection, key, framed(connection).options().handshakeTimeout());
  }

  /** As {@link #answerChallenge(Connection, AuthKey)}, waiting at most {@code timeout}. */
  public static void answerChallenge(Connection connection, AuthKey key, Duration timeout)
      throws IOException {
    FramedConnection c = framed(connection);
    Objects.requireNonNull(key, "key");
    long deadline = Deadlines.after(Objects.requireNonNull(timeout, "timeout"));
    Handshake.answerChallenge(c.handshakeChannel(deadline), key.bytes(),
        c.options().unprefixedDigest());
  }

  private static FramedConnection framed(Connection connection) {
    // Connection is sealed around FramedConnection: every connection is one.
    return (FramedConnection) Objects.requireNonNull(connection, "connection");
  }
}
