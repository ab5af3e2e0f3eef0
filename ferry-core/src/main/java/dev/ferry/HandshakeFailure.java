package dev.ferry;

/** Why a listener did not accept a client: the reasons {@link ListenerMetrics} counts. */
public enum HandshakeFailure {
  /** The client's HMAC answer was wrong, or it rejected ours: the keys differ. */
  WRONG_KEY("wrong key"),
  /** The handshake did not finish within the listener's handshake timeout. */
  TIMEOUT("timeout"),
  /** The client broke the protocol, hung up, or its TLS handshake failed. */
  PROTOCOL_ERROR("protocol error"),
  /** The listener's {@link PeerPolicy} refused the client. */
  REFUSED_BY_POLICY("refused by policy");

  private final String reason;

  HandshakeFailure(String reason) {
    this.reason = reason;
  }

  /** The reason in words, as the {@code dev.ferry.HandshakeFailed} event records it. */
  public String reason() {
    return reason;
  }
}
