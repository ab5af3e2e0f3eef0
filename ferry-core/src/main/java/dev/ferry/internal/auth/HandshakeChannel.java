package dev.ferry.internal.auth;

import java.io.IOException;

/** The two framed operations a handshake needs, with the deadline already applied by the caller. */
public interface HandshakeChannel {

  /** Sends {@code message} as one frame. */
  void sendMessage(byte[] message) throws IOException;

  /**
   * Receives one frame of at most {@code maxLength} bytes. A longer frame throws
   * {@link dev.ferry.MessageTooLargeException} ("bad message length"), a clean end of stream
   * {@link java.io.EOFException}, and a deadline that passes {@link java.net.SocketTimeoutException}.
   */
  byte[] receiveMessage(int maxLength) throws IOException;
}
