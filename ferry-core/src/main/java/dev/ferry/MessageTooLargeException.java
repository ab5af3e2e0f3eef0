package dev.ferry;

import java.io.IOException;

/**
 * A message's declared length exceeds the limit of this receive, checked before any of its payload
 * is read or allocated. As in CPython, the payload is left unread in the stream: a duplex connection
 * becomes write-only ({@link Receiver#isReadable()} turns false, sends still work) and the read end of
 * a one-way pipe is closed.
 *
 * <p>Python: {@code OSError("bad message length")}.
 */
public final class MessageTooLargeException extends IOException {
  private static final long serialVersionUID = 1L;

  private final long length;
  private final long limit;

  public MessageTooLargeException(long length, long limit) {
    super("bad message length: " + Long.toUnsignedString(length) + " > limit " + limit);
    this.length = length;
    this.limit = limit;
  }

  /** The length the peer declared. */
  public long length() {
    return length;
  }

  /** The limit it was checked against. */
  public long limit() {
    return limit;
  }
}
