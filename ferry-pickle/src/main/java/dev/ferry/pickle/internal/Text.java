package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * The text encodings pickle uses. Python encodes {@code str} as UTF-8 with
 * {@code surrogatepass}, so a lone surrogate (legal in both Java and Python strings) travels as
 * its three-byte form; Java's own UTF-8 coder would turn it into {@code '?'} or U+FFFD.
 */
final class Text {
  private Text() {}

  /** UTF-8 with {@code surrogatepass}. */
  static byte[] encodeUtf8(String s) {
    if (!hasSurrogate(s)) return s.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length() * 3);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        out.write(0xf0 | (cp >> 18));
        out.write(0x80 | ((cp >> 12) & 0x3f));
        out.write(0x80 | ((cp >> 6) & 0x3f));
        out.write(0x80 | (cp & 0x3f));
      } else if (c < 0x80) {
        out.write(c);
      } else if (c < 0x800) {
        out.write(0xc0 | (c >> 6));
        out.write(0x80 | (c & 0x3f));
      } else {
        out.write(0xe0 | (c >> 12));
        out.write(0x80 | ((c >> 6) & 0x3f));
        out.write(0x80 | (c & 0x3f));
      }
    }
    return out.toByteArray();
  }

  private static boolean hasSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isSurrogate(s.charAt(i))) return true;
    }
    return false;
  }

  /** Strict UTF-8 that also accepts encoded surrogates, as Python's {@code surrogatepass}. */
  static String decodeUtf8(byte[] b) throws CodecException {
    int i = 0;
    while (i < b.length && b[i] >= 0) i++;
    if (i == b.length) return new String(b, StandardCharsets.ISO_8859_1);
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      // Encoded surrogates, or really malformed: the slow path tells them apart.
    }
    StringBuilder out = new StringBuilder(b.length);
    out.append(new String(b, 0, i, StandardCharsets.ISO_8859_1));
    while (i < b.length) {
      int c = b[i] & 0xff;
      int need;
      int cp;
      int min;
      if (c < 0x80) {
        out.append((char) c);
        i++;
        continue;
      } else if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        cp = c & 0x1f;
        min = 0x80;
      } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        cp = c & 0x0f;
        min = 0x800;
      } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        cp = c & 0x07;
        min = 0x10000;
      } else {
        throw badUtf8(i);
      }
      if (i + need >= b.length) throw badUtf8(i);
      for (int k = 1; k <= need; k++) {
        int cc = b[i + k] & 0xff;
        if ((cc & 0xc0) != 0x80) throw badUtf8(i);
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (cp < min || cp > 0x10ffff) throw badUtf8(i);
      out.appendCodePoint(cp);
      i += need + 1;
    }
    return out.toString();
  }

  private static CodecException badUtf8(int offset) {
    return new CodecException("invalid utf-8 in string at byte " + offset);
  }

  /**
   * Python's {@code raw_unicode_escape} decoder, used by the protocol 0 {@code UNICODE} opcode:
   * bytes are Latin-1 except {@code \\uXXXX} and {@code \\UXXXXXXXX} after an even run of
   * backslashes.
   */
  static String decodeRawUnicodeEscape(byte[] b) throws CodecException {
    StringBuilder out = new StringBuilder(b.length);
    int i = 0;
    while (i < b.length) {
      int c = b[i] & 0xff;
      if (c != '\\') {
        out.append((char) c);
        i++;
        continue;
      }
      int run = 0;
      while (i < b.length && b[i] == '\\') {
        run++;
        i++;
      }
      boolean escape = (run & 1) == 1 && i < b.length && (b[i] == 'u' || b[i] == 'U');
      out.append("\\".repeat(escape ? run - 1 : run));
      if (!escape) continue;
      int digits = b[i] == 'u' ? 4 : 8;
      if (i + 1 + digits > b.length) throw new CodecException("truncated \\u escape in string");
      int cp = 0;
      for (int k = 1; k <= digits; k++) {
        int d = Character.digit(b[i + k], 16);
        if (d < 0) throw new CodecException("bad \\u escape in string");
        cp = (cp << 4) | d;
      }
      if (cp < 0 || cp > 0x10ffff) throw new CodecException("\\U escape out of range in string");
      out.appendCodePoint(cp);
      i += 1 + digits;
    }
    return out.toString();
  }

  /**
   * Python's {@code escape_decode} for the protocol 0 {@code STRING} opcode, whose argument is a
   * quoted {@code repr} of a Python 2 {@code str}. Returns the bytes.
   */
  static byte[] decodeQuoted(byte[] line) throws CodecException {
    int n = line.length;
    if (n < 2 || line[0] != line[n - 1] || (line[0] != '\'' && line[0] != '"')) {
      throw new CodecException("the STRING opcode argument must be quoted");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(n);
    int i = 1;
    int end = n - 1;
    while (i < end) {
      int c = line[i++] & 0xff;
      if (c != '\\') {
        out.write(c);
        continue;
      }
      if (i >= end) throw new CodecException("trailing \\ in string");
      int e = line[i++] & 0xff;
      switch (e) {
        case '\n' -> { }
        case '\\', '\'', '"' -> out.write(e);
        case 'a' -> out.write(7);
        case 'b' -> out.write(8);
        case 'f' -> out.write(12);
        case 'n' -> out.write('\n');
        case 'r' -> out.write('\r');
        case 't' -> out.write('\t');
        case 'v' -> out.write(11);
        case 'x' -> {
          int hi = i < end ? Character.digit(line[i], 16) : -1;
          int lo = i + 1 < end ? Character.digit(line[i + 1], 16) : -1;
          if (hi < 0 || lo < 0) throw new CodecException("invalid \\x escape in string");
          out.write(hi << 4 | lo);
          i += 2;
        }
        default -> {
          if (e >= '0' && e <= '7') {
            int v = e - '0';
            for (int k = 0; k < 2 && i < end && line[i] >= '0' && line[i] <= '7'; k++) {
              v = v * 8 + (line[i++] - '0');
            }
            out.write(v & 0xff);
          } else {
            out.write('\\');
            out.write(e);
          }
        }
      }
    }
    return out.toByteArray();
  }
}
