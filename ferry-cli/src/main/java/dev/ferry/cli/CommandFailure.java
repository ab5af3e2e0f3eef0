package dev.ferry.cli;

/** A command could not do its work for a reason already put in words; printed as it is, exit 1. */
final class CommandFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CommandFailure(String message) {
    super(message);
  }
}
