package dev.ferry;

import java.io.IOException;

/**
 * This side's connection, pipe end or listener was closed, before or during the call. A peer that
 * went away shows up differently: as {@link java.io.EOFException} on receive and as an
 * {@code IOException} such as "broken pipe" on send.
 *
 * <p>Python: {@code OSError("handle is closed")}.
 */
public final class ConnectionClosedException extends IOException {
  private static final long serialVersionUID = 1L;

  public ConnectionClosedException(String message) {
    super(message);
  }
}
