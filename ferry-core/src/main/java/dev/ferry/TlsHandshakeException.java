package dev.ferry;

/**
 * The TLS handshake failed: a certificate the other side does not trust or that names another
 * host, a client without the certificate a listener requires, a peer that speaks no TLS, or no
 * protocol version or cipher suite in common. The message names the address and the reason; the
 * cause is the JDK's {@link javax.net.ssl.SSLException}. The connection is closed; a listener
 * reports it from {@link Listener#accept()} and stays usable.
 *
 * <p>Python: {@code ssl.SSLError} (CPython's {@code multiprocessing} itself has no TLS).
 */
public final class TlsHandshakeException extends AuthenticationException {
  private static final long serialVersionUID = 1L;

  public TlsHandshakeException(String message, Throwable cause) {
    super(message);
    initCause(cause);
  }
}
