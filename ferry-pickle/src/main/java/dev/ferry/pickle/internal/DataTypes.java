package dev.ferry.pickle.internal;

import static dev.ferry.pickle.internal.Stdlib.arity;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyCounter;
import dev.ferry.pickle.PyDefaultDict;
import dev.ferry.pickle.PyDeque;
import dev.ferry.pickle.PyFraction;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyOrderedDict;
import dev.ferry.pickle.PyRange;
import dev.ferry.pickle.PySlice;
import dev.ferry.pickle.PyTuple;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The plain data types of the standard library beyond the basics in {@link Stdlib}: the
 * {@code collections} containers, {@code Fraction}, {@code range}, {@code slice}, the scalar
 * classes named as {@code defaultdict} factories, and {@code zoneinfo.ZoneInfo}. Each is rebuilt
 * from plain data; none runs Python code.
 */
final class DataTypes {
  private DataTypes() {}

  /** Larger fraction parts are refused: reducing them to lowest terms is quadratic. */
  static final int MAX_FRACTION_BITS = 1 << 16;

  private static final Pattern FRACTION = Pattern.compile("\\s*([-+]?\\d+)(?:/(\\d+))?\\s*");

  static Map<String, Globals.Handler> handlers() {
    Map<String, Globals.Handler> h = new HashMap<>();
    h.put("collections.OrderedDict",
        (args, u) -> Stdlib.fillDict(new PyOrderedDict(), args, u, "collections.OrderedDict"));
    h.put("collections.Counter",
        (args, u) -> Stdlib.fillDict(new PyCounter(), args, u, "collections.Counter"));
    h.put("collections.defaultdict", DataTypes::defaultDict);
    h.put("collections.deque", DataTypes::deque);
    h.put("fractions.Fraction", DataTypes::fraction);
    h.put("builtins.range", DataTypes::range);
    h.put("builtins.slice", DataTypes::slice);
    h.put("builtins.getattr", DataTypes::getattr);
    h.put("builtins.int", scalar("int", Integer.class, 0));
    h.put("builtins.float", scalar("float", Double.class, 0.0));
    h.put("builtins.str", scalar("str", String.class, ""));
    h.put("builtins.bool", scalar("bool", Boolean.class, false));
    h.put("zoneinfo.ZoneInfo", (args, u) -> zone(args, 1, "zoneinfo.ZoneInfo"));
    h.put("zoneinfo.ZoneInfo._unpickle", (args, u) -> zone(args, 2, "zoneinfo.ZoneInfo"));
    h.putAll(ArrayData.handlers());
    return h;
  }

  private static Object defaultDict(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 2, "collections.defaultdict");
    Object factory = args.size() > 0 ? args.get(0) : null;
    PyDefaultDict map;
    if (factory == null) {
      map = new PyDefaultDict();
    } else if (factory instanceof PyGlobal global) {
      map = new PyDefaultDict(global);
    } else {
      throw new CodecException("defaultdict factory must be a class, not "
          + Values.typeName(factory));
    }
    return args.size() > 1 ? Stdlib.fillDict(map, PyTuple.of(args.get(1)), u, "defaultdict") : map;
  }

  private static Object deque(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 2, "collections.deque");
    Object maxlen = args.size() > 1 ? args.get(1) : null;
    PyDeque deque = maxlen == null ? new PyDeque()
        : new PyDeque(checkedInt(Numbers.toLong(maxlen, "deque maxlen"), "deque maxlen"));
    if (args.size() > 0) {
      Object source = args.get(0);
      Collection<?> items = source instanceof PyTuple t ? t.items()
          : source instanceof Collection<?> c ? c : null;
      if (items == null) throw new CodecException("deque of " + Values.typeName(source));
      u.charge(items.size());
      deque.addAll(items);
    }
    return deque;
  }

  private static int checkedInt(long n, String what) throws CodecException {
    if (n < 0 || n > Integer.MAX_VALUE) throw new CodecException(what + " out of range: " + n);
    return (int) n;
  }

  private static Object fraction(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 2, "fractions.Fraction");
    try {
      if (args.size() == 0) return PyFraction.of(0, 1);
      if (args.get(0) instanceof String s) {
        arity(args, 1, 1, "fractions.Fraction of str");
        return parseFraction(s, u);
      }
      BigInteger numerator = integer(args.get(0), "fraction numerator");
      BigInteger denominator = args.size() > 1
          ? integer(args.get(1), "fraction denominator") : BigInteger.ONE;
      return new PyFraction(numerator, denominator);
    } catch (ArithmeticException e) {
      throw new CodecException("bad fractions.Fraction: " + e.getMessage());
    }
  }

  private static BigInteger integer(Object value, String what) throws CodecException {
    BigInteger n = Numbers.toBigInteger(value);
    if (n == null) {
      throw new CodecException(what + " must be an int, not " + Values.typeName(value));
    }
    if (n.bitLength() > MAX_FRACTION_BITS) {
      throw new CodecException(
          what + " of " + n.bitLength() + " bits > limit " + MAX_FRACTION_BITS);
    }
    return n;
  }

  /** Python 2 and Python 3 before 3.12 send {@code str(fraction)}: {@code "3/4"} or {@code "3"}. */
  private static PyFraction parseFraction(String s, Unpickler u) throws CodecException {
    if (s.length() > Stdlib.MAX_DECIMAL_CHARS) {
      throw new CodecException(
          "fraction of " + s.length() + " characters > limit " + Stdlib.MAX_DECIMAL_CHARS);
    }
    u.charge(s.length());
    Matcher m = FRACTION.matcher(s);
    if (m.matches()) {
      return new PyFraction(integer(new BigInteger(m.group(1)), "fraction numerator"),
          m.group(2) == null ? BigInteger.ONE
              : integer(new BigInteger(m.group(2)), "fraction denominator"));
    }
    try {
      BigDecimal d = new BigDecimal(s.strip().replace("_", ""));
      if (Math.abs((long) d.scale()) > Stdlib.MAX_DECIMAL_CHARS) {
        throw new CodecException("fraction exponent out of range: " + Unpickler.abbreviate(s));
      }
      return d.scale() <= 0
          ? new PyFraction(integer(d.toBigIntegerExact(), "fraction"), BigInteger.ONE)
          : new PyFraction(integer(d.unscaledValue(), "fraction"),
              integer(BigInteger.TEN.pow(d.scale()), "fraction denominator"));
    } catch (NumberFormatException | ArithmeticException e) {
      throw new CodecException("bad fraction: " + Unpickler.abbreviate(s));
    }
  }

  private static Object range(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 3, "range");
    try {
      if (args.size() == 1) return PyRange.of(Numbers.toLong(args.get(0), "range stop"));
      long step = args.size() > 2 ? Numbers.toLong(args.get(2), "range step") : 1;
      return new PyRange(Numbers.toLong(args.get(0), "range start"),
          Numbers.toLong(args.get(1), "range stop"), step);
    } catch (IllegalArgumentException e) {
      throw new CodecException(e.getMessage());
    }
  }

  private static Object slice(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 3, "slice");
    if (args.size() == 1) return new PySlice(null, args.get(0), null);
    return new PySlice(args.get(0), args.get(1), args.size() > 2 ? args.get(2) : null);
  }

  /**
   * Python: {@code getattr(cls, name)}, which pickles name class attributes such as
   * {@code ZoneInfo._unpickle}; the attribute is a global of its own, allowed or refused as such.
   */
  private static Object getattr(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 2, 2, "getattr");
    if (!(args.get(0) instanceof PyGlobal owner) || !(args.get(1) instanceof String name)) {
      throw new CodecException("getattr of " + Values.typeName(args.get(0)) + " is not supported");
    }
    return u.checkGlobal(owner.module(), owner.name() + "." + name);
  }

  /** The scalar classes, named as {@code defaultdict} factories; calling one makes its default. */
  private static Globals.Handler scalar(String name, Class<?> type, Object zero) {
    return (args, u) -> {
      arity(args, 0, 1, name);
      if (args.size() == 0) return zero;
      if (type.isInstance(args.get(0))) return args.get(0);
      throw new CodecException(name + " of " + Values.typeName(args.get(0)) + " is not supported");
    };
  }

  private static Object zone(PyTuple args, int arguments, String what) throws CodecException {
    arity(args, 1, arguments, what);
    if (!(args.get(0) instanceof String key)) {
      throw new CodecException(what + " key must be a str, not " + Values.typeName(args.get(0)));
    }
    try {
      return ZoneId.of(key);
    } catch (DateTimeException e) {
      throw new CodecException("unknown time zone: " + Unpickler.abbreviate(key));
    }
  }
}
