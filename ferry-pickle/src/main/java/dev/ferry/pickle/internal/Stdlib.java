package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyComplex;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The standard library types that CPython pickles through globals, each rebuilt by Java code from
 * plain data: sets, {@code bytearray}, {@code complex}, protocol-2 {@code bytes}, the
 * {@code copyreg} helpers, {@code datetime}, {@code decimal.Decimal} and {@code uuid.UUID}.
 */
final class Stdlib {
  private Stdlib() {}

  /** Longer Decimal strings are refused: parsing is quadratic in Java as in Python 3.11+. */
  static final int MAX_DECIMAL_CHARS = 100_000;

  static Map<String, Globals.Handler> handlers() {
    Map<String, Globals.Handler> h = new HashMap<>();
    h.put("builtins.set", (args, u) -> new LinkedHashSet<>(items(args, u, "set")));
    h.put("builtins.frozenset", (args, u) -> new FrozenSet(items(args, u, "frozenset")));
    h.put("builtins.list", (args, u) -> new ArrayList<>(items(args, u, "list")));
    h.put("builtins.tuple", (args, u) -> new PyTuple(new ArrayList<>(items(args, u, "tuple"))));
    h.put("builtins.bytearray", Stdlib::bytearray);
    h.put("builtins.bytes", Stdlib::bytes);
    h.put("builtins.memoryview", Buffers::memoryview);
    h.put("builtins.complex", Stdlib::complex);
    h.put("builtins.object", new Globals.Handler() {
      @Override
      public Object call(PyTuple args, Unpickler u) {
        return u.open(new PyGlobal("builtins", "object"), PyObject.Construction.CALL, args);
      }
    });
    h.put("_codecs.encode", Stdlib::codecsEncode);
    h.put("copyreg._reconstructor", Stdlib::reconstructor);
    h.put("copyreg.__newobj__", (args, u) -> {
      arity(args, 1, Integer.MAX_VALUE, "copyreg.__newobj__");
      return u.newObject(args.get(0), new PyTuple(args.items().subList(1, args.size())), Map.of());
    });
    h.put("copyreg.__newobj_ex__", (args, u) -> {
      arity(args, 3, 3, "copyreg.__newobj_ex__");
      if (!(args.get(1) instanceof PyTuple a) || !(args.get(2) instanceof Map<?, ?> k)) {
        throw new CodecException("copyreg.__newobj_ex__ needs a tuple and a dict");
      }
      return u.newObject(args.get(0), a, k);
    });
    h.put("builtins.dict", (args, u) -> fillDict(new LinkedHashMap<>(), args, u, "dict"));
    h.put("datetime.date", Stdlib::date);
    h.put("datetime.time", Stdlib::time);
    h.put("datetime.datetime", Stdlib::dateTime);
    h.put("datetime.timedelta", Stdlib::timedelta);
    h.put("datetime.timezone", Stdlib::timezone);
    h.put("decimal.Decimal", Stdlib::decimal);
    h.put("uuid.UUID", new UuidHandler());
    return h;
  }

  static void arity(PyTuple args, int min, int max, String what) throws CodecException {
    if (args.size() < min || args.size() > max) {
      throw new CodecException(what + " takes " + (min == max ? min : min + " to " + max)
          + " arguments, not " + args.size());
    }
  }

  private static Collection<?> items(PyTuple args, Unpickler u, String what)
      throws CodecException {
    arity(args, 0, 1, what);
    if (args.size() == 0) return List.of();
    Object source = args.get(0);
    Collection<?> items;
    if (source instanceof PyTuple tuple) {
      items = tuple.items();
    } else if (source instanceof Collection<?> c) {
      items = c;
    } else {
      throw new CodecException(what + " of " + Values.typeName(source) + " is not supported");
    }
    u.charge(items.size());
    if (what.endsWith("set")) for (Object item : items) u.hashable(item);
    return items;
  }

  // ------------------------------------------------------------------------- bytes, complex

  private static Object bytearray(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 3, "bytearray");
    if (args.size() == 0) return PyBytearray.of(new byte[0]);
    return PyBytearray.of(bytesOf(args, u, "bytearray"));
  }

  private static Object bytes(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 3, "bytes");
    if (args.size() == 0) return new byte[0];
    return bytesOf(args, u, "bytes").clone();
  }

  private static byte[] bytesOf(PyTuple args, Unpickler u, String what) throws CodecException {
    Object source = args.get(0);
    if (source instanceof byte[] b && args.size() == 1) {
      u.charge(b.length);
      return b;
    }
    if (source instanceof PyBytearray b && args.size() == 1) {
      u.charge(b.length());
      return b.toByteArray();
    }
    if (source instanceof String s && args.size() >= 2 && args.get(1) instanceof String enc) {
      return encode(s, enc, u);
    }
    throw new CodecException(what + " of " + Values.typeName(source) + " is not supported");
  }

  private static Object codecsEncode(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 3, "_codecs.encode");
    if (!(args.get(0) instanceof String s)) {
      throw new CodecException("_codecs.encode of " + Values.typeName(args.get(0)));
    }
    Object encoding = args.size() > 1 ? args.get(1) : "utf-8";
    if (!(encoding instanceof String enc)) throw new CodecException("encoding must be a str");
    return encode(s, enc, u);
  }

  private static byte[] encode(String s, String encoding, Unpickler u) throws CodecException {
    u.charge(s.length());
    String e = encoding.toLowerCase(Locale.ROOT).replace('_', '-');
    switch (e) {
      case "latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1" -> {
        for (int i = 0; i < s.length(); i++) {
          if (s.charAt(i) > 0xff) {
            throw new CodecException("latin-1 cannot encode: " + (int) s.charAt(i));
          }
        }
        return s.getBytes(StandardCharsets.ISO_8859_1);
      }
      case "ascii", "us-ascii" -> {
        for (int i = 0; i < s.length(); i++) {
          if (s.charAt(i) > 0x7f) {
            throw new CodecException("ascii cannot encode: " + (int) s.charAt(i));
          }
        }
        return s.getBytes(StandardCharsets.US_ASCII);
      }
      case "utf-8", "utf8" -> {
        return Text.encodeUtf8(s);
      }
      default -> throw new CodecException(
          "encoding not supported: " + Unpickler.abbreviate(encoding));
    }
  }

  private static Object complex(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 2, "complex");
    double real = args.size() > 0 ? toDouble(args.get(0)) : 0;
    double imag = args.size() > 1 ? toDouble(args.get(1)) : 0;
    return new PyComplex(real, imag);
  }

  private static double toDouble(Object value) throws CodecException {
    if (value instanceof Double d) return d;
    BigInteger n = Numbers.toBigInteger(value);
    if (n != null) return n.doubleValue();
    throw new CodecException("complex part must be a number, not " + Values.typeName(value));
  }

  // -------------------------------------------------------------------------------- copyreg

  private static Object reconstructor(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 3, 3, "copyreg._reconstructor");
    Object cls = args.get(0);
    Object base = args.get(1);
    if (!(base instanceof PyGlobal b)) {
      throw new CodecException("copyreg._reconstructor base must be a class");
    }
    PyTuple newArgs = b.qualifiedName().equals("builtins.object")
        ? PyTuple.empty() : PyTuple.of(args.get(2));
    return u.newObject(cls, newArgs, Map.of());
  }

  /** Python: {@code dict(source)} into {@code map}: a dict, or pairs as Python 2 sends them. */
  static Map<Object, Object> fillDict(Map<Object, Object> map, PyTuple args, Unpickler u,
      String what) throws CodecException {
    arity(args, 0, 1, what);
    if (args.size() == 1) {
      Object source = args.get(0);
      if (source instanceof Map<?, ?> m) {
        u.charge(m.size());
        map.putAll(m);
      } else if (source instanceof List<?> pairs) {
        u.charge(pairs.size());
        for (Object pair : pairs) {
          List<?> kv = pair instanceof PyTuple t ? t.items() : pair instanceof List<?> l ? l : null;
          if (kv == null || kv.size() != 2) throw new CodecException("dict item is not a pair");
          map.put(u.hashable(kv.get(0)), kv.get(1));
        }
      } else {
        throw new CodecException(what + " of " + Values.typeName(source));
      }
    }
    return map;
  }

  // ------------------------------------------------------------------------------- datetime

  private static byte[] stateBytes(Object value) {
    if (value instanceof byte[] b) return b;
    // Python 2 pickles the state as str, which reaches Java as a Latin-1 String.
    if (value instanceof String s && s.chars().allMatch(c -> c <= 0xff)) {
      return s.getBytes(StandardCharsets.ISO_8859_1);
    }
    return null;
  }

  private static int intArg(PyTuple args, int index, int fallback, String what)
      throws CodecException {
    if (index >= args.size()) return fallback;
    long v = Numbers.toLong(args.get(index), what);
    if (v != (int) v) throw new CodecException(what + " out of range: " + v);
    return (int) v;
  }

  private static Object date(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 3, "datetime.date");
    try {
      byte[] s = stateBytes(args.get(0));
      if (s != null && args.size() == 1) {
        if (s.length != 4) throw new CodecException("bad datetime.date state");
        return LocalDate.of((s[0] & 0xff) << 8 | (s[1] & 0xff), s[2], s[3]);
      }
      return LocalDate.of(intArg(args, 0, 1, "year"), intArg(args, 1, 1, "month"),
          intArg(args, 2, 1, "day"));
    } catch (DateTimeException e) {
      throw new CodecException("bad datetime.date: " + e.getMessage());
    }
  }

  private static Object time(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 5, "datetime.time");
    try {
      byte[] s = args.size() > 0 ? stateBytes(args.get(0)) : null;
      LocalTime time;
      Object tz;
      if (s != null && args.size() <= 2) {
        if (s.length != 6) throw new CodecException("bad datetime.time state");
        time = LocalTime.of(s[0] & 0x7f, s[1], s[2], micros(s, 3) * 1000);
        tz = args.size() > 1 ? args.get(1) : null;
      } else {
        time = LocalTime.of(intArg(args, 0, 0, "hour"), intArg(args, 1, 0, "minute"),
            intArg(args, 2, 0, "second"), intArg(args, 3, 0, "microsecond") * 1000);
        tz = args.size() > 4 ? args.get(4) : null;
      }
      ZoneOffset offset = offset(tz);
      return offset == null ? time : OffsetTime.of(time, offset);
    } catch (DateTimeException | ArithmeticException e) {
      throw new CodecException("bad datetime.time: " + e.getMessage());
    }
  }

  private static Object dateTime(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 8, "datetime.datetime");
    try {
      byte[] s = stateBytes(args.get(0));
      LocalDateTime dt;
      Object tz;
      boolean fold = false;
      if (s != null && args.size() <= 2) {
        if (s.length != 10) throw new CodecException("bad datetime.datetime state");
        fold = (s[2] & 0x80) != 0;
        dt = LocalDateTime.of((s[0] & 0xff) << 8 | (s[1] & 0xff), s[2] & 0x7f, s[3], s[4], s[5],
            s[6], micros(s, 7) * 1000);
        tz = args.size() > 1 ? args.get(1) : null;
      } else {
        arity(args, 3, 8, "datetime.datetime");
        dt = LocalDateTime.of(intArg(args, 0, 1, "year"), intArg(args, 1, 1, "month"),
            intArg(args, 2, 1, "day"), intArg(args, 3, 0, "hour"), intArg(args, 4, 0, "minute"),
            intArg(args, 5, 0, "second"), intArg(args, 6, 0, "microsecond") * 1000);
        tz = args.size() > 7 ? args.get(7) : null;
      }
      if (tz instanceof ZoneId zone && !(zone instanceof ZoneOffset)) {
        // zoneinfo: fold=1 picks the second of two equal local times, as in Python.
        ZonedDateTime zoned = ZonedDateTime.ofLocal(dt, zone, null);
        return fold ? zoned.withLaterOffsetAtOverlap() : zoned.withEarlierOffsetAtOverlap();
      }
      ZoneOffset offset = offset(tz);
      return offset == null ? dt : OffsetDateTime.of(dt, offset);
    } catch (DateTimeException | ArithmeticException e) {
      throw new CodecException("bad datetime.datetime: " + e.getMessage());
    }
  }

  private static int micros(byte[] s, int at) {
    return (s[at] & 0xff) << 16 | (s[at + 1] & 0xff) << 8 | (s[at + 2] & 0xff);
  }

  private static ZoneOffset offset(Object tz) throws CodecException {
    if (tz == null) return null;
    if (tz instanceof ZoneOffset offset) return offset;
    throw new CodecException("tzinfo not supported: " + Values.typeName(tz));
  }

  private static Object timedelta(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 0, 3, "datetime.timedelta");
    long days = args.size() > 0 ? Numbers.toLong(args.get(0), "days") : 0;
    long seconds = args.size() > 1 ? Numbers.toLong(args.get(1), "seconds") : 0;
    long micros = args.size() > 2 ? Numbers.toLong(args.get(2), "microseconds") : 0;
    if (Math.abs(days) > 999_999_999L || Math.abs(seconds) > 1L << 40
        || Math.abs(micros) > 1L << 50) {
      throw new CodecException("datetime.timedelta out of range");
    }
    return Duration.ofDays(days).plusSeconds(seconds).plusNanos(micros * 1000);
  }

  private static Object timezone(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 2, "datetime.timezone");
    if (!(args.get(0) instanceof Duration d)) {
      throw new CodecException("datetime.timezone offset must be a timedelta");
    }
    if (d.getNano() != 0 || Math.abs(d.getSeconds()) > 18 * 3600) {
      throw new CodecException("datetime.timezone offset not supported: " + d);
    }
    return ZoneOffset.ofTotalSeconds((int) d.getSeconds());
  }

  // ------------------------------------------------------------------------- decimal, uuid

  private static Object decimal(PyTuple args, Unpickler u) throws CodecException {
    arity(args, 1, 2, "decimal.Decimal");
    if (!(args.get(0) instanceof String s)) {
      throw new CodecException("decimal.Decimal of " + Values.typeName(args.get(0)));
    }
    if (s.length() > MAX_DECIMAL_CHARS) {
      throw new CodecException(
          "decimal of " + s.length() + " characters > limit " + MAX_DECIMAL_CHARS);
    }
    u.charge(s.length());
    String t = s.strip().replace("_", "");
    String lower = t.toLowerCase(Locale.ROOT);
    if (lower.contains("nan") || lower.contains("inf")) {
      // BigDecimal has no NaN or infinity: keep the Python value as it is.
      return u.open(new PyGlobal("decimal", "Decimal"), PyObject.Construction.CALL, args);
    }
    try {
      return new BigDecimal(t);
    } catch (NumberFormatException e) {
      throw new CodecException("bad decimal: " + Unpickler.abbreviate(s));
    }
  }

  /** {@code uuid.UUID(hex)}, or {@code UUID.__new__} followed by the state {@code {'int': n}}. */
  private static final class UuidHandler implements Globals.Handler {
    @Override
    public Object call(PyTuple args, Unpickler u) throws CodecException {
      arity(args, 1, 1, "uuid.UUID");
      if (!(args.get(0) instanceof String hex)) {
        throw new CodecException("uuid.UUID of " + Values.typeName(args.get(0)));
      }
      String h = hex.replace("urn:", "").replace("uuid:", "").replaceAll("[{}\\-]", "");
      if (h.length() != 32 || !h.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        throw new CodecException("bad uuid: " + Unpickler.abbreviate(hex));
      }
      return new UUID(Long.parseUnsignedLong(h.substring(0, 16), 16),
          Long.parseUnsignedLong(h.substring(16), 16));
    }

    @Override
    public Object newObject(PyTuple args, Map<?, ?> kwargs, Unpickler u) {
      return new Unpickler.Pending() {
        @Override
        String what() {
          return "uuid.UUID";
        }

        @Override
        Object build(Object state, Unpickler unpickler) throws CodecException {
          if (state instanceof PyTuple t && t.size() == 2) {
            // (dict state, slot state), as objects with __slots__ pickle it.
            state = t.get(1) != null ? t.get(1) : t.get(0);
          }
          if (!(state instanceof Map<?, ?> m) || Numbers.toBigInteger(m.get("int")) == null) {
            throw new CodecException("bad uuid.UUID state");
          }
          BigInteger n = Numbers.toBigInteger(m.get("int"));
          if (n.signum() < 0 || n.bitLength() > 128) {
            throw new CodecException("uuid.UUID int out of range");
          }
          return new UUID(n.shiftRight(64).longValue(), n.longValue());
        }
      };
    }
  }
}
