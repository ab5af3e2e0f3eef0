package dev.ferry;

import java.io.IOException;

/**
 * The byte stream broke the framing rules: it ended inside a message ({@code "got end of file during
 * message"}) or carried a length header no sender may write. After a cut message the end stays a
 * read end at the end of its stream: the next receive throws {@link java.io.EOFException}, as
 * CPython's next {@code recv} raises {@code EOFError}. After a malformed header the rest of the
 * stream cannot be read in step: a duplex end becomes write-only and a read end closes.
 *
 * <p>Python: {@code OSError("got end of file during message")}.
 */
public final class FramingException extends IOException {
  private static final long serialVersionUID = 1L;

  public FramingException(String message) {
    super(message);
  }
}
