package dev.ferry.cli;

import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.PyArray;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyComplex;
import dev.ferry.pickle.PyConstant;
import dev.ferry.pickle.PyCounter;
import dev.ferry.pickle.PyDefaultDict;
import dev.ferry.pickle.PyDeque;
import dev.ferry.pickle.PyFraction;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyOrderedDict;
import dev.ferry.pickle.PyRange;
import dev.ferry.pickle.PySlice;
import dev.ferry.pickle.PyTuple;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
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
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Prints a value decoded by {@link PickleCodec} the way Python's {@code repr} shows the Python
 * value, so that lines look natural to a Python user: {@code None}, {@code True}, {@code 1.5},
 * {@code 'text'}, {@code b'\x00'}, {@code [1, 2]}, {@code (1,)}, {@code {'a': 1}}, {@code {1, 2}},
 * {@code set()}, {@code frozenset({1})}, {@code datetime.date(2024, 2, 29)},
 * {@code Decimal('1.50')}, {@code UUID('...')}. A numpy array shows its dtype and shape, not its
 * elements: {@code array(dtype=float64, shape=(2, 3))}; {@link #elements} gives those.
 *
 * <p>Containers that contain themselves print as Python prints them ({@code [[...]]}); nesting
 * deeper than {@link PickleCodec#DEFAULT_MAX_DEPTH} prints as {@code ...} there, where Python
 * would fail with a {@code RecursionError}, since a decoded pickle may nest far deeper than the
 * stack would allow.
 */
final class PyRepr {
  private final StringBuilder out = new StringBuilder();
  /** The containers being printed, outermost first: one met again is a cycle. */
  private final Map<Object, Boolean> open = new IdentityHashMap<>();

  private PyRepr() {}

  static String of(Object value) {
    PyRepr repr = new PyRepr();
    repr.value(value, 0);
    return repr.out.toString();
  }

  /**
   * A numpy array's elements as nested lists in C order, like Python's {@code a.tolist()}:
   * {@code [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]}. Unsigned dtypes print unsigned, complex ones as
   * {@code complex} values.
   */
  static String elements(NdArray array) {
    PyRepr repr = new PyRepr();
    int[] shape = array.shape();
    if (shape.length == 0) {
      repr.element(array, 0);
    } else {
      repr.elements(array, shape, 0, 0);
    }
    return repr.out.toString();
  }

  private void value(Object value, int depth) {
    if (depth > PickleCodec.DEFAULT_MAX_DEPTH) {
      out.append("...");
    } else if (value == null) {
      out.append("None");
    } else if (value instanceof Boolean b) {
      out.append(b ? "True" : "False");
    } else if (value instanceof Integer || value instanceof Long || value instanceof BigInteger
        || value instanceof Short || value instanceof Byte) {
      out.append(value);
    } else if (value instanceof Double || value instanceof Float) {
      out.append(floatRepr(((Number) value).doubleValue()));
    } else if (value instanceof String s) {
      out.append(stringRepr(s));
    } else if (value instanceof byte[] bytes) {
      out.append(bytesRepr(bytes));
    } else if (value instanceof PyBytearray bytes) {
      out.append("bytearray(").append(bytesRepr(bytes.toByteArray())).append(')');
    } else if (value instanceof PyComplex c) {
      out.append(complexRepr(c.real(), c.imag()));
    } else if (value instanceof PyTuple tuple) {
      container(tuple, "(", tuple.size() == 1 ? ",)" : ")", "(...)", tuple.items(), depth);
    } else if (stdlib(value, depth)) {
      // A standard library type, printed by its class name.
    } else if (value instanceof List<?> list) {
      container(list, "[", "]", "[...]", list, depth);
    } else if (value instanceof Map<?, ?> map) {
      dict(map, depth);
    } else if (value instanceof Set<?> set) {
      set(set, depth);
    } else if (value instanceof NdArray array) {
      out.append("array(dtype=").append(array.dtype().name().toLowerCase(Locale.ROOT))
          .append(", shape=").append(shapeRepr(array.shape())).append(')');
    } else if (value instanceof BigDecimal decimal) {
      out.append("Decimal('").append(decimal).append("')");
    } else if (value instanceof UUID uuid) {
      out.append("UUID('").append(uuid).append("')");
    } else if (temporal(value)) {
      // A datetime type.
    } else if (value instanceof PyGlobal global) {
      out.append("<global ").append(global.qualifiedName()).append('>');
    } else if (value instanceof PyObject object) {
      pyObject(object, depth);
    } else {
      out.append(value); // no decoded value gets here; a Java caller's own type might
    }
  }

  private void container(Object self, String start, String end, String cycle,
      Collection<?> items, int depth) {
    if (open.put(self, Boolean.TRUE) != null) {
      out.append(cycle);
      return;
    }
    out.append(start);
    items(items, depth);
    out.append(end);
    open.remove(self);
  }

  private void items(Collection<?> items, int depth) {
    boolean first = true;
    for (Object item : items) {
      if (!first) out.append(", ");
      first = false;
      value(item, depth + 1);
    }
  }

  private void dict(Map<?, ?> map, int depth) {
    if (open.put(map, Boolean.TRUE) != null) {
      out.append("{...}");
      return;
    }
    out.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      if (!first) out.append(", ");
      first = false;
      value(entry.getKey(), depth + 1);
      out.append(": ");
      value(entry.getValue(), depth + 1);
    }
    out.append('}');
    open.remove(map);
  }

  private void set(Set<?> set, int depth) {
    boolean frozen = PickleCodec.isFrozenSet(set);
    String name = frozen ? "frozenset" : "set";
    if (open.put(set, Boolean.TRUE) != null) {
      out.append(name).append("(...)");
      return;
    }
    if (set.isEmpty()) {
      out.append(name).append("()");
    } else {
      if (frozen) out.append("frozenset(");
      out.append('{');
      items(set, depth);
      out.append('}');
      if (frozen) out.append(')');
    }
    open.remove(set);
  }

  /** {@code module.Name(args)}, then what the pickle set after construction. */
  private void pyObject(PyObject object, int depth) {
    if (open.put(object, Boolean.TRUE) != null) {
      out.append("<").append(object.type().qualifiedName()).append(" ...>");
      return;
    }
    out.append(object.type().qualifiedName());
    if (object.construction() == PyObject.Construction.NEW) out.append(".__new__");
    out.append('(');
    items(object.args().items(), depth);
    out.append(')');
    if (object.state() != null) {
      out.append(" state=");
      value(object.state(), depth + 1);
    }
    if (!object.listItems().isEmpty()) {
      out.append(" items=");
      container(object.listItems(), "[", "]", "[...]", object.listItems(), depth + 1);
    }
    if (!object.dictItems().isEmpty()) {
      out.append(" dict items=");
      dict(object.dictItems(), depth + 1);
    }
    open.remove(object);
  }

  private boolean temporal(Object value) {
    if (value instanceof LocalDate date) {
      out.append("datetime.date(").append(date.getYear()).append(", ")
          .append(date.getMonthValue()).append(", ").append(date.getDayOfMonth()).append(')');
    } else if (value instanceof LocalDateTime dateTime) {
      dateTime(dateTime, null);
    } else if (value instanceof OffsetDateTime dateTime) {
      dateTime(dateTime.toLocalDateTime(), "tzinfo=" + timezoneRepr(dateTime.getOffset()));
    } else if (value instanceof LocalTime time) {
      time(time, null);
    } else if (value instanceof OffsetTime time) {
      time(time.toLocalTime(), "tzinfo=" + timezoneRepr(time.getOffset()));
    } else if (value instanceof Duration duration) {
      out.append(timedeltaRepr(duration));
    } else if (value instanceof ZoneOffset offset) {
      out.append(timezoneRepr(offset));
    } else if (value instanceof ZonedDateTime dateTime) {
      zoned(dateTime);
    } else if (value instanceof ZoneId zone) {
      out.append(zoneRepr(zone));
    } else {
      return false;
    }
    return true;
  }

  /**
   * The types of the standard library that print as their class and arguments:
   * {@code OrderedDict({'a': 1})}, {@code deque([1], maxlen=5)}, {@code Fraction(3, 4)}, ...
   */
  private boolean stdlib(Object value, int depth) {
    if (value instanceof PyOrderedDict map) {
      named("OrderedDict", map.isEmpty() ? null : map, depth);
    } else if (value instanceof PyCounter counter) {
      named("Counter", counter.isEmpty() ? null : byCount(counter), depth);
    } else if (value instanceof PyDefaultDict map) {
      out.append("defaultdict(");
      PyGlobal factory = map.factory().orElse(null);
      if (factory != null && factory.module().equals("builtins")) {
        out.append("<class '").append(factory.name()).append("'>");
      } else {
        value(factory, depth + 1);
      }
      out.append(", ");
      dict(map, depth);
      out.append(')');
    } else if (value instanceof PyDeque deque) {
      out.append("deque(");
      container(deque, "[", "]", "[...]", deque, depth);
      deque.maxLength().ifPresent(n -> out.append(", maxlen=").append(n));
      out.append(')');
    } else if (value instanceof PyArray array) {
      out.append("array('").append(array.typecode()).append('\'');
      if (!array.items().isEmpty()) {
        out.append(", ");
        if ("uw".contains(array.typecode())) {
          out.append(stringRepr(String.join("", array.items().stream().map(String::valueOf)
              .toList())));
        } else {
          container(array.items(), "[", "]", "[...]", array.items(), depth);
        }
      }
      out.append(')');
    } else if (value instanceof PyFraction f) {
      out.append("Fraction(").append(f.numerator()).append(", ").append(f.denominator())
          .append(')');
    } else if (value instanceof PySlice slice) {
      out.append("slice(");
      items(Arrays.asList(slice.start(), slice.stop(), slice.step()), depth);
      out.append(')');
    } else if (value instanceof PyRange || value instanceof PyConstant) {
      out.append(value instanceof PyConstant c ? c.pythonName() : value.toString());
    } else {
      return false;
    }
    return true;
  }

  private void named(String name, Map<?, ?> items, int depth) {
    out.append(name).append('(');
    if (items != null) dict(items, depth);
    out.append(')');
  }

  /** Python prints a Counter most common first; ties keep their order. */
  private static Map<Object, Object> byCount(PyCounter counter) {
    List<Map.Entry<Object, Object>> entries = new ArrayList<>(counter.entrySet());
    if (entries.stream().allMatch(e -> e.getValue() instanceof Integer)) {
      entries.sort((a, b) -> Integer.compare((Integer) b.getValue(), (Integer) a.getValue()));
    }
    Map<Object, Object> sorted = new LinkedHashMap<>();
    for (Map.Entry<Object, Object> e : entries) sorted.put(e.getKey(), e.getValue());
    return sorted;
  }

  private void zoned(ZonedDateTime dateTime) {
    if (dateTime.getZone() instanceof ZoneOffset offset) {
      dateTime(dateTime.toLocalDateTime(), "tzinfo=" + timezoneRepr(offset));
      return;
    }
    String fold = dateTime.equals(dateTime.withEarlierOffsetAtOverlap()) ? "" : "fold=1, ";
    dateTime(dateTime.toLocalDateTime(), fold + "tzinfo=" + zoneRepr(dateTime.getZone()));
  }

  static String zoneRepr(ZoneId zone) {
    return "zoneinfo.ZoneInfo(key=" + stringRepr(zone.getId()) + ")";
  }

  /** Python's repr drops a zero microsecond, then a zero second: (2024, 2, 29, 12, 30). */
  private void dateTime(LocalDateTime dateTime, String zone) {
    out.append("datetime.datetime(").append(dateTime.getYear()).append(", ")
        .append(dateTime.getMonthValue()).append(", ").append(dateTime.getDayOfMonth())
        .append(", ");
    clock(dateTime.toLocalTime(), zone);
  }

  private void time(LocalTime time, String zone) {
    out.append("datetime.time(");
    clock(time, zone);
  }

  /** {@code zone} follows the clock: {@code "tzinfo=..."} or {@code "fold=1, tzinfo=..."}. */
  private void clock(LocalTime time, String zone) {
    int micros = time.getNano() / 1000;
    out.append(time.getHour()).append(", ").append(time.getMinute());
    if (time.getSecond() != 0 || micros != 0) out.append(", ").append(time.getSecond());
    if (micros != 0) out.append(", ").append(micros);
    if (zone != null) out.append(", ").append(zone);
    out.append(')');
  }

  private void elements(NdArray array, int[] shape, int axis, long offset) {
    int n = shape[axis];
    long stride = 1;
    for (int i = axis + 1; i < shape.length; i++) stride *= shape[i];
    out.append('[');
    for (int i = 0; i < n; i++) {
      if (i > 0) out.append(", ");
      if (axis == shape.length - 1) {
        element(array, offset + i);
      } else {
        elements(array, shape, axis + 1, offset + i * stride);
      }
    }
    out.append(']');
  }

  private void element(NdArray array, long index) {
    Object data = array.data();
    int i = Math.toIntExact(index);
    switch (array.dtype()) {
      case BOOL -> out.append(((boolean[]) data)[i] ? "True" : "False");
      case UINT8 -> out.append(Byte.toUnsignedInt(((byte[]) data)[i]));
      case UINT16 -> out.append(Short.toUnsignedInt(((short[]) data)[i]));
      case UINT32 -> out.append(Integer.toUnsignedString(((int[]) data)[i]));
      case UINT64 -> out.append(Long.toUnsignedString(((long[]) data)[i]));
      case FLOAT32 -> out.append(floatRepr(((float[]) data)[i]));
      case FLOAT64 -> out.append(floatRepr(((double[]) data)[i]));
      case COMPLEX64 -> out.append(complexRepr(
          ((float[]) data)[2 * i], ((float[]) data)[2 * i + 1]));
      case COMPLEX128 -> out.append(complexRepr(
          ((double[]) data)[2 * i], ((double[]) data)[2 * i + 1]));
      default -> out.append(Array.get(data, i)); // signed integers
    }
  }

  static String shapeRepr(int[] shape) {
    StringBuilder s = new StringBuilder("(");
    for (int i = 0; i < shape.length; i++) {
      if (i > 0) s.append(", ");
      s.append(shape[i]);
    }
    return s.append(shape.length == 1 ? ",)" : ")").toString();
  }

  /**
   * Python's float repr: the shortest digits that read back the same, positional from 1e-4 up
   * to 1e16 (with {@code .0} when whole), else {@code 1.5e-05} and {@code 1e+16}.
   */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) return "nan";
    if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
    if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
    String sign = d < 0 ? "-" : "";
    BigDecimal decimal = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = decimal.unscaledValue().toString();
    int exponent = digits.length() - 1 - decimal.scale();
    if (exponent >= -4 && exponent < 16) {
      String plain = decimal.toPlainString();
      return sign + (plain.contains(".") ? plain : plain + ".0");
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    String exp = String.format(Locale.ROOT, "%02d", Math.abs(exponent));
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + exp;
  }

  /** Python: {@code (1+2j)}, {@code 2j}, {@code (1.5-0j)}. */
  static String complexRepr(double real, double imag) {
    String imagPart = componentRepr(imag) + "j";
    if (real == 0 && 1 / real > 0) return imagPart;
    String sign = imag < 0 || (imag == 0 && 1 / imag < 0) ? "" : "+"; // else it has its own
    return "(" + componentRepr(real) + sign + imagPart + ")";
  }

  /** A float in a complex repr: whole numbers lose their {@code .0}, as Python writes them. */
  private static String componentRepr(double d) {
    String s = floatRepr(d);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }

  /** Python's str repr: single quotes unless the text has one and no double quote. */
  static String stringRepr(String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder b = new StringBuilder(s.length() + 2).append(quote);
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      if (c == quote || c == '\\') {
        b.append('\\').appendCodePoint(c);
      } else if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else if (c == '\t') {
        b.append("\\t");
      } else if (isPrintable(c)) {
        b.appendCodePoint(c);
      } else if (c <= 0xff) {
        b.append(String.format(Locale.ROOT, "\\x%02x", c));
      } else if (c <= 0xffff) {
        b.append(String.format(Locale.ROOT, "\\u%04x", c));
      } else {
        b.append(String.format(Locale.ROOT, "\\U%08x", c));
      }
    }
    return b.append(quote).toString();
  }

  /** Python's {@code str.isprintable()} for one character: no control, format or separator. */
  private static boolean isPrintable(int c) {
    if (c == ' ') return true;
    return switch (Character.getType(c)) {
      case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE,
          Character.UNASSIGNED, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
          Character.SPACE_SEPARATOR -> false;
      default -> true;
    };
  }

  /** Python's bytes repr: printable ASCII as itself, {@code \t\n\r}, else {@code \xNN}. */
  static String bytesRepr(byte[] bytes) {
    boolean single = false;
    boolean dbl = false;
    for (byte x : bytes) {
      single |= x == '\'';
      dbl |= x == '"';
    }
    char quote = single && !dbl ? '"' : '\'';
    StringBuilder b = new StringBuilder(bytes.length + 3).append('b').append(quote);
    for (byte x : bytes) {
      int c = x & 0xff;
      if (c == quote || c == '\\') {
        b.append('\\').append((char) c);
      } else if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else if (c == '\t') {
        b.append("\\t");
      } else if (c >= 0x20 && c < 0x7f) {
        b.append((char) c);
      } else {
        b.append(String.format(Locale.ROOT, "\\x%02x", c));
      }
    }
    return b.append(quote).toString();
  }

  /** Python 3.7+: {@code datetime.timedelta(days=-1, seconds=86399, microseconds=5)}. */
  static String timedeltaRepr(Duration duration) {
    long days = Math.floorDiv(duration.getSeconds(), 86_400);
    long seconds = Math.floorMod(duration.getSeconds(), 86_400);
    long micros = duration.getNano() / 1000;
    StringBuilder b = new StringBuilder("datetime.timedelta(");
    String separator = "";
    if (days != 0) {
      b.append("days=").append(days);
      separator = ", ";
    }
    if (seconds != 0) {
      b.append(separator).append("seconds=").append(seconds);
      separator = ", ";
    }
    if (micros != 0) b.append(separator).append("microseconds=").append(micros);
    if (days == 0 && seconds == 0 && micros == 0) b.append('0');
    return b.append(')').toString();
  }

  /** {@code datetime.timezone.utc}, or {@code datetime.timezone(datetime.timedelta(...))}. */
  static String timezoneRepr(ZoneOffset offset) {
    if (offset.getTotalSeconds() == 0) return "datetime.timezone.utc";
    return "datetime.timezone(" + timedeltaRepr(Duration.ofSeconds(offset.getTotalSeconds()))
        + ")";
  }
}
