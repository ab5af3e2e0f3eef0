package dev.ferry.cli;

import picocli.CommandLine;

/**
 * A value on the command line that cannot be used. Its message is printed as it is, as the one
 * line of a usage error: it names the value and what was expected.
 */
final class BadValueException extends CommandLine.TypeConversionException {
  private static final long serialVersionUID = 1L;

  BadValueException(String message) {
    super(message);
  }
}
