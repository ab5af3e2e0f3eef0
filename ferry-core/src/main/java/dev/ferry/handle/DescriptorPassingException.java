package dev.ferry.handle;

import java.io.IOException;

/**
 * Descriptors did not arrive as expected: a message or byte came with none, or with more than
 * were asked for, or a received descriptor is not the kind of socket asked for. Python raises
 * {@code RuntimeError} in the same cases.
 */
public final class DescriptorPassingException extends IOException {
  private static final long serialVersionUID = 1L;

  public DescriptorPassingException(String message) {
    super(message);
  }

  public DescriptorPassingException(String message, Throwable cause) {
    super(message, cause);
  }
}
