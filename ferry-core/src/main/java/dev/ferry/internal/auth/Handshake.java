package dev.ferry.internal.auth;

import java.io.IOException;

/** Placeholder until the handshake lands from its branch. */
public final class Handshake {
  private Handshake() {}

  public static void serverSide(HandshakeChannel ch, byte[] key) throws IOException {
    throw new UnsupportedOperationException("handshake not yet merged");
  }

  public static void clientSide(HandshakeChannel ch, byte[] key) throws IOException {
    throw new UnsupportedOperationException("handshake not yet merged");
  }
}
