package dev.ferry.codec;

import java.io.IOException;

/**
 * A value could not be encoded, or a payload could not be decoded. The connection itself is still
 * intact: the offending message was consumed whole, so the next receive reads the next message.
 */
public class CodecException extends IOException {
  private static final long serialVersionUID = 1L;

  public CodecException(String message) {
    super(message);
  }

  public CodecException(String message, Throwable cause) {
    super(message, cause);
  }
}
