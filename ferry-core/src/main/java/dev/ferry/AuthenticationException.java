package dev.ferry;

import java.io.IOException;

/**
 * The HMAC handshake failed: a wrong key, a peer that speaks no handshake, or a digest this side does
 * not allow. Messages follow CPython's wording so logs read the same on both sides: the client sees
 * {@code "digest sent was rejected"}, the server {@code "digest received was wrong"}.
 *
 * <p>Python: {@code multiprocessing.AuthenticationError}. Subclassed only by
 * {@link PeerRefusedException}, for peers refused before any handshake, and
 * {@link TlsHandshakeException}, for a TLS handshake (under the HMAC one) that failed.
 */
public class AuthenticationException extends IOException {
  private static final long serialVersionUID = 1L;

  public AuthenticationException(String message) {
    super(message);
  }
}
