package dev.ferry.internal.auth;

/**
 * Python's {@code repr()} of a {@code bytes} value, so that exception messages quote the peer's
 * bytes exactly as CPython would ({@code b'#WELCOME#'}, {@code b'\x00\x01'}).
 */
final class PythonRepr {
  /** Bytes beyond this are left out: 256 bytes of handshake can take 1024 characters as repr. */
  static final int MAX_SHOWN = 64;

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private PythonRepr() {}

  /**
   * The repr of {@code bytes}. Longer values show their first {@link #MAX_SHOWN} bytes followed by
   * {@code ...} and the full length, e.g. {@code b'\x00...'... (256 bytes)}; the part inside the
   * quotes is then still valid Python.
   */
  static String of(byte[] bytes) {
    int shown = Math.min(bytes.length, MAX_SHOWN);
    // Like CPython: single quotes unless the value holds ' and no ".
    char quote = contains(bytes, shown, '\'') && !contains(bytes, shown, '"') ? '"' : '\'';
    StringBuilder out = new StringBuilder(shown * 4 + 24).append('b').append(quote);
    for (int i = 0; i < shown; i++) {
      int b = bytes[i] & 0xff;
      if (b == quote || b == '\\') {
        out.append('\\').append((char) b);
      } else if (b == '\t') {
        out.append("\\t");
      } else if (b == '\n') {
        out.append("\\n");
      } else if (b == '\r') {
        out.append("\\r");
      } else if (b >= 0x20 && b < 0x7f) {
        out.append((char) b);
      } else {
        out.append("\\x").append(HEX[b >>> 4]).append(HEX[b & 0xf]);
      }
    }
    out.append(quote);
    if (shown < bytes.length) {
      out.append("... (").append(bytes.length).append(" bytes)");
    }
    return out.toString();
  }

  private static boolean contains(byte[] bytes, int length, char c) {
    for (int i = 0; i < length; i++) {
      if (bytes[i] == c) {
        return true;
      }
    }
    return false;
  }
}
