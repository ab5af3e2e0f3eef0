package dev.ferry.internal.auth;

import dev.ferry.AuthenticationException;
import dev.ferry.HandshakeFailure;
import dev.ferry.PeerRefusedException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletionException;

/**
 * Why a handshake failed, in {@link HandshakeFailure}'s words: for a listener's counts and for the
 * {@code dev.ferry.HandshakeFailed} events of both sides.
 */
public final class HandshakeFailures {
  private HandshakeFailures() {}

  /**
   * The reason for {@code failure}. A client cannot tell a listener's policy refusal from a hang-up
   * (the listener closes without a word): it sees a protocol error.
   */
  public static HandshakeFailure classify(Throwable failure) {
    Throwable e = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (e instanceof PeerRefusedException) return HandshakeFailure.REFUSED_BY_POLICY;
    if (e instanceof SocketTimeoutException) return HandshakeFailure.TIMEOUT;
    if (e instanceof AuthenticationException a && isKeyMismatch(a)) return HandshakeFailure.WRONG_KEY;
    return HandshakeFailure.PROTOCOL_ERROR;
  }

  /** The two verdicts that mean the keys differ; other authentication errors are malformed bytes. */
  private static boolean isKeyMismatch(AuthenticationException e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("digest received was wrong") || m.contains("digest sent was rejected");
  }
}
