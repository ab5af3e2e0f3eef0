package dev.ferry;

import java.io.IOException;

/**
 * The byte stream broke the framing rules: it ended inside a message ({@code "got end of file during
 * message"}) or carried a length header no sender may write. The stream can't be trusted after this,
 * so the connection is no longer readable.
 *
 * <p>Python: {@code OSError("got end of file during message")}.
 */
public final class FramingException extends IOException {
  private static final long serialVersionUID = 1L;

  public FramingException(String message) {
    super(message);
  }
}
