package dev.ferry.cli;

import dev.ferry.AuthenticationException;
import java.io.EOFException;
import java.io.IOException;

/** Turns a failure into the one line a person reads on stderr. Never a stack trace. */
final class Failures {
  private Failures() {}

  static String describe(Throwable e) {
    if (e instanceof CommandFailure) return e.getMessage();
    if (e instanceof AuthenticationException) return "authentication failed: " + e.getMessage();
    if (e instanceof EOFException) return "peer closed the connection";
    if (e instanceof IOException) return messageOrName(e);
    if (e instanceof IllegalArgumentException) return messageOrName(e);
    // Until the handshake lands, the placeholder says so in its message.
    if (e instanceof UnsupportedOperationException) return messageOrName(e);
    return "internal error: " + e;
  }

  private static String messageOrName(Throwable e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }
}
