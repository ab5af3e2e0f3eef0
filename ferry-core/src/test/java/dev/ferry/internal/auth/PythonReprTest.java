package dev.ferry.internal.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Expected strings are what CPython 3.13 prints for {@code repr()} of the same bytes. */
final class PythonReprTest {
  @Test
  void quotesPrintableBytesAsIs() {
    assertEquals("b'#WELCOME#'", PythonRepr.of(ascii("#WELCOME#")));
    assertEquals("b' ~'", PythonRepr.of(ascii(" ~")));
    assertEquals("b''", PythonRepr.of(new byte[0]));
  }

  @Test
  void choosesQuotesLikeCpython() {
    assertEquals("b\"it's\"", PythonRepr.of(ascii("it's")));
    assertEquals("b'\\'\"'", PythonRepr.of(ascii("'\"")));
    assertEquals("b'\"'", PythonRepr.of(ascii("\"")));
  }

  @Test
  void escapesBackslashControlAndHighBytes() {
    assertEquals("b'a\\\\b'", PythonRepr.of(ascii("a\\b")));
    assertEquals("b'\\t\\n\\r'", PythonRepr.of(ascii("\t\n\r")));
    assertEquals("b'\\x00\\x7f\\x80\\xff'", PythonRepr.of(new byte[] {0, 0x7f, (byte) 0x80, -1}));
  }

  @Test
  void truncatesLongValuesAndGivesTheirLength() {
    String shown = "\\x00".repeat(PythonRepr.MAX_SHOWN);
    assertEquals("b'" + shown + "'", PythonRepr.of(new byte[PythonRepr.MAX_SHOWN]));
    assertEquals("b'" + shown + "'... (256 bytes)", PythonRepr.of(new byte[256]));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
