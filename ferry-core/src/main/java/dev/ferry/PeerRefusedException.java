package dev.ferry;

/**
 * A client was refused before any handshake because its {@link PeerCredentials} did not pass the
 * listener's {@link ConnectionOptions#peerPolicy() peer policy}, or could not be read. The
 * connection is closed; the listener stays usable. Thrown from {@link Listener#accept()}.
 */
public final class PeerRefusedException extends AuthenticationException {
  private static final long serialVersionUID = 1L;

  private final transient PeerCredentials credentials;

  public PeerRefusedException(String message, PeerCredentials credentials) {
    super(message);
    this.credentials = credentials;
  }

  /** The refused peer's credentials; null if they could not be read. */
  public PeerCredentials credentials() {
    return credentials;
  }
}
