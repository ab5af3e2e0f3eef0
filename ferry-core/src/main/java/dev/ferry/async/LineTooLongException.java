package dev.ferry.async;

import java.io.IOException;

/**
 * A line did not end within the limit {@link AsyncRawReader#readLine} was given; its bytes stay
 * unread. Python: asyncio's {@code LimitOverrunError} ({@code ValueError} from
 * {@code readline}).
 */
public final class LineTooLongException extends IOException {
  private static final long serialVersionUID = 1L;

  public LineTooLongException(String message) {
    super(message);
  }
}
