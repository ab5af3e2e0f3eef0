package dev.ferry.pickle.internal;

import static dev.ferry.pickle.internal.Stdlib.arity;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyArray;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyTuple;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * {@code array.array}: Python 2 and protocol 2 send {@code array(typecode, list)} (Python 2.7
 * sends the machine bytes as a {@code str} instead of a list); protocol 3+ sends
 * {@code array._array_reconstructor(array, typecode, machine_format, bytes)}.
 */
final class ArrayData {
  private ArrayData() {}

  /**
   * CPython's {@code enum machine_format_code}: 0 and 1 are unsigned and signed bytes, 2 to 13
   * are (u16, s16, u32, s32, u64, s64) each little- then big-endian, 14 to 17 are float32 and
   * float64 each LE then BE, 18 to 21 are UTF-16 and UTF-32 each LE then BE.
   */
  private static final int LAST_FORMAT = 21;

  static Map<String, Globals.Handler> handlers() {
    return Map.of("array.array", ArrayData::array,
        "array._array_reconstructor", ArrayData::reconstructor);
  }

  private static Object array(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 2, "array.array");
    String typecode = typecode(args.get(0));
    if (args.size() == 1) return new PyArray(typecode, List.of());
    Object init = args.get(1);
    char code = typecode.charAt(0);
    if (init instanceof Collection<?> items) {
      u.charge(items.size());
      List<Object> checked = new ArrayList<>(items.size());
      for (Object item : items) checked.add(item(code, item));
      return new PyArray(typecode, checked);
    }
    if (init instanceof String s && (code == 'u' || code == 'w')) {
      u.charge(s.length());
      return new PyArray(typecode, s.codePoints().<Object>mapToObj(Character::toString).toList());
    }
    // Python 2.7: the machine's bytes (little-endian here), as a str that arrives as Latin-1.
    byte[] bytes = init instanceof byte[] b ? b
        : init instanceof String s && s.chars().allMatch(c -> c <= 0xff)
            ? s.getBytes(StandardCharsets.ISO_8859_1) : null;
    if (bytes == null) throw new CodecException("array.array of " + Values.typeName(init));
    return decode(typecode, nativeFormat(code), bytes, u);
  }

  private static Object reconstructor(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 4, 4, "array._array_reconstructor");
    if (!(args.get(0) instanceof PyGlobal cls) || !cls.qualifiedName().equals("array.array")) {
      throw new CodecException("array._array_reconstructor of " + Values.typeName(args.get(0)));
    }
    String typecode = typecode(args.get(1));
    long format = Numbers.toLong(args.get(2), "array machine format");
    if (format < 0 || format > LAST_FORMAT) {
      throw new CodecException("unknown array machine format: " + format);
    }
    if (!(args.get(3) instanceof byte[] bytes)) {
      throw new CodecException("array data must be bytes, not " + Values.typeName(args.get(3)));
    }
    return decode(typecode, (int) format, bytes, u);
  }

  private static String typecode(Object value) throws CodecException {
    if (value instanceof String s && s.length() == 1
        && PyArray.TYPECODES.indexOf(s.charAt(0)) >= 0) {
      return s;
    }
    throw new CodecException("bad array typecode: " + Unpickler.abbreviate(String.valueOf(value)));
  }

  /** The little-endian machine format of a type code on 64-bit Linux and macOS. */
  static int nativeFormat(char code) {
    return switch (code) {
      case 'B' -> 0;
      case 'b' -> 1;
      case 'H' -> 2;
      case 'h' -> 4;
      case 'I' -> 6;
      case 'i' -> 8;
      case 'L', 'Q' -> 10;
      case 'l', 'q' -> 12;
      case 'f' -> 14;
      case 'd' -> 16;
      default -> 20; // 'u' and 'w': UTF-32, wchar_t and Py_UCS4 on Linux and macOS
    };
  }

  private static PyArray decode(String typecode, int format, byte[] bytes, Unpickler u)
      throws CodecException {
    int size = format <= 1 ? 1 : format <= 13 ? 2 << ((format - 2) / 4)
        : format <= 17 ? (format <= 15 ? 4 : 8) : format <= 19 ? 2 : 4;
    if (bytes.length % size != 0) {
      throw new CodecException("array data of " + bytes.length + " bytes is not a multiple of "
          + size);
    }
    boolean bigEndian = format >= 2 && format % 2 == 1;
    ByteBuffer in = ByteBuffer.wrap(bytes)
        .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    u.charge(bytes.length / size);
    List<Object> items = new ArrayList<>(bytes.length / size);
    char code = typecode.charAt(0);
    if (format >= 18) {
      String text = new String(bytes, format == 18 ? StandardCharsets.UTF_16LE
          : format == 19 ? StandardCharsets.UTF_16BE : format == 20 ? utf32("LE") : utf32("BE"));
      text.codePoints().forEach(c -> items.add(Character.toString(c)));
    } else if (format >= 14) {
      while (in.hasRemaining()) items.add(size == 4 ? (double) in.getFloat() : in.getDouble());
    } else {
      boolean signed = format == 1 || (format >= 2 && (format - 2) / 2 % 2 == 1);
      while (in.hasRemaining()) {
        byte[] word = new byte[size];
        // BigInteger wants big-endian bytes.
        for (int i = 0; i < size; i++) word[bigEndian ? i : size - 1 - i] = in.get();
        BigInteger n = signed ? new BigInteger(word) : new BigInteger(1, word);
        items.add(item(code, Numbers.normalize(n)));
      }
    }
    return new PyArray(typecode, items);
  }

  private static Charset utf32(String order) {
    return Charset.forName("UTF-32" + order);
  }

  /** Checks an item against its type code, as {@code array.append} would. */
  static Object item(char code, Object item) throws CodecException {
    if (code == 'f' || code == 'd') {
      if (item instanceof Double d) return d;
      BigInteger n = Numbers.toBigInteger(item);
      if (n != null) return n.doubleValue();
    } else if (code == 'u' || code == 'w') {
      if (item instanceof String s && s.codePointCount(0, s.length()) == 1) return s;
    } else {
      BigInteger n = Numbers.toBigInteger(item);
      if (n != null) {
        if (!fits(code, n)) {
          throw new CodecException("array item out of range for '" + code + "': " + n);
        }
        return Numbers.normalize(n);
      }
    }
    throw new CodecException("bad array item for '" + code + "': " + Values.typeName(item));
  }

  private static boolean fits(char code, BigInteger n) {
    int bits = switch (Character.toLowerCase(code)) {
      case 'b' -> 8;
      case 'h' -> 16;
      case 'i' -> 32;
      default -> 64;
    };
    if (Character.isUpperCase(code)) return n.signum() >= 0 && n.bitLength() <= bits;
    return n.bitLength() < bits;
  }
}
