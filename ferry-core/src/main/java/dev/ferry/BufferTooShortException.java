package dev.ferry;

import java.io.IOException;

/**
 * The caller's buffer was too small for the message received into it. The message was consumed
 * whole and travels in this exception, so nothing is lost: the next receive reads the next message.
 *
 * <p>Python: {@code multiprocessing.BufferTooShort}, whose {@code args[0]} is the message.
 */
public final class BufferTooShortException extends IOException {
  private static final long serialVersionUID = 1L;

  private final byte[] message;

  public BufferTooShortException(byte[] message, long capacity) {
    super("buffer too short: message length " + message.length + " > space " + capacity);
    this.message = message;
  }

  /** The whole message that did not fit. Not a copy: this exception owns it. */
  public byte[] message() {
    return message;
  }
}
