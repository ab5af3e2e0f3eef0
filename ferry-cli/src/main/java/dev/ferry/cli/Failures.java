package dev.ferry.cli;

import dev.ferry.AuthenticationException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Turns a failure into the one line a person reads on stderr. Never a stack trace. */
final class Failures {
  private Failures() {}

  static String describe(Throwable e) {
    if (e instanceof CommandFailure) return e.getMessage();
    if (e instanceof AuthenticationException) return "authentication failed: " + e.getMessage();
    if (e instanceof EOFException) return "peer closed the connection";
    if (e instanceof FileSystemException f) return describeFile(f);
    if (e instanceof IOException) return messageOrName(e);
    if (e instanceof IllegalArgumentException) return messageOrName(e);
    // Until the handshake lands, the placeholder says so in its message.
    if (e instanceof UnsupportedOperationException) return messageOrName(e);
    // A native library or a module this Java runtime lacks: the machine's lack, not a bug.
    if (e instanceof LinkageError) {
      return "this java runtime lacks what it needs: " + messageOrName(e);
    }
    if (e instanceof OutOfMemoryError) {
      return "out of memory (" + messageOrName(e) + "): give java more with FERRY_JAVA_OPTS=-Xmx";
    }
    return "internal error: " + e;
  }

  /** java.nio.file's exceptions carry the path apart from the reason; a person wants both. */
  private static String describeFile(FileSystemException e) {
    String file = e.getFile();
    if (e instanceof NoSuchFileException) return "no such file or directory: " + file;
    if (e instanceof AccessDeniedException) return "permission denied: " + file;
    if (e instanceof FileAlreadyExistsException) return "file already exists: " + file;
    if (e instanceof NotDirectoryException) return "not a directory: " + file;
    return messageOrName(e);
  }

  private static String messageOrName(Throwable e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }
}
