package dev.ferry.pickle;

import dev.ferry.pickle.NdArray.DType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The Java side of {@code make_pickles.py}'s cases: the value each name decodes to, which is also
 * what Java encodes for Python to compare with its own value of that name.
 */
final class Cases {
  private Cases() {}

  /** Names whose Java value does not go back to the same Python type (checked one way only). */
  static final Set<String> DECODE_ONLY = Set.of(
      "np_scalar_f8", "np_scalar_i8", // Java Double and Integer go back as float and int
      "picklebuffer_ro", "picklebuffer_rw"); // bytes and bytearray go back as themselves

  private static final Map<String, Supplier<Object>> CASES = new LinkedHashMap<>();
  private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

  static {
    put("none", () -> null);
    put("true", () -> true);
    put("false", () -> false);
    put("int_0", () -> 0);
    put("int_1", () -> 1);
    put("int_neg1", () -> -1);
    put("int_255", () -> 255);
    put("int_256", () -> 256);
    put("int_65535", () -> 65535);
    put("int_65536", () -> 65536);
    put("int_2p31m1", () -> Integer.MAX_VALUE);
    put("int_m2p31", () -> Integer.MIN_VALUE);
    put("int_2p31", () -> 1L << 31);
    put("int_m2p31m1", () -> -(1L << 31) - 1);
    put("int_2p63m1", () -> Long.MAX_VALUE);
    put("int_m2p63", () -> Long.MIN_VALUE);
    put("int_2p63", () -> BigInteger.ONE.shiftLeft(63));
    put("int_2p64", () -> BigInteger.ONE.shiftLeft(64));
    put("int_m2p200", () -> BigInteger.ONE.shiftLeft(200).negate());
    put("int_2p2100", () -> BigInteger.ONE.shiftLeft(2100));
    put("float_1_5", () -> 1.5);
    put("float_neg_zero", () -> -0.0);
    put("float_pi", () -> Math.PI);
    put("float_inf", () -> Double.POSITIVE_INFINITY);
    put("float_neg_inf", () -> Double.NEGATIVE_INFINITY);
    put("float_nan", () -> Double.NaN);
    put("float_tiny", () -> Double.MIN_VALUE);
    put("str_empty", () -> "");
    put("str_ascii", () -> "hello");
    put("str_unicode", () -> "h\u00e9llo \u20ac \ud83d\ude00");
    put("str_controls", () -> "a\nb\\c\r\u0000\u001a\\u0041 \"'");
    put("str_300", () -> "x".repeat(300));
    put("str_70000", () -> "\u00e9".repeat(70000));
    put("str_surrogate", () -> "a\ud800b");
    put("bytes_empty", () -> new byte[0]);
    put("bytes_bin", () -> new byte[] {0, (byte) 0xff, (byte) 0x80, 'a', 'b', 'c', '\n', '\\'});
    put("bytes_300", () -> {
      byte[] b = new byte[300];
      for (int i = 0; i < 300; i++) b[i] = (byte) (i < 256 ? i : 'y');
      return b;
    });
    put("bytes_70000", () -> {
      byte[] b = new byte[70000];
      Arrays.fill(b, (byte) 0xfe);
      return b;
    });
    put("bytearray", () -> PyBytearray.of(new byte[] {0, 1, (byte) 0xff}));
    put("bytearray_empty", () -> PyBytearray.of(new byte[0]));
    put("tuple_empty", PyTuple::empty);
    put("tuple_1", () -> PyTuple.of(1));
    put("tuple_2", () -> PyTuple.of(1, "a"));
    put("tuple_3", () -> PyTuple.of(1, 2, 3));
    put("tuple_4", () -> PyTuple.of(1, 2, 3, null));
    put("list_empty", ArrayList::new);
    put("list_1", () -> list(1));
    put("list_mixed", () -> list(1, "a", null, 2.5, true));
    put("list_2500", () -> {
      List<Object> l = new ArrayList<>();
      for (int i = 0; i < 2500; i++) l.add(i);
      return l;
    });
    put("dict_empty", LinkedHashMap::new);
    put("dict_1", () -> map("a", 1));
    put("dict_str", () -> map("a", 1, "b", list(1, 2)));
    put("dict_int_keys", () -> map(1, "x", 2, "y"));
    put("dict_tuple_key", () -> map(PyTuple.of(1, 2), "x"));
    put("dict_1500", () -> {
      Map<Object, Object> m = new LinkedHashMap<>();
      for (int i = 0; i < 1500; i++) m.put(i, i);
      return m;
    });
    put("set_empty", LinkedHashSet::new);
    put("set", () -> new LinkedHashSet<>(List.of(1, 2, 3)));
    put("frozenset", () -> PickleCodec.frozenSet(List.of(1, 2)));
    put("frozenset_empty", () -> PickleCodec.frozenSet(List.of()));
    put("set_of_frozenset", () -> new LinkedHashSet<>(List.of(PickleCodec.frozenSet(List.of(1)))));
    put("set_of_tuples", () -> new LinkedHashSet<>(List.of(PyTuple.of(1, 2), PyTuple.of(3, 4))));
    put("nested", () -> map("l", list(PyTuple.of(1, 2.5, "s"), map("k", list(list(), map()))),
        "n", null));
    put("complex", () -> new PyComplex(1, -2));
    put("date", () -> LocalDate.of(2024, 2, 29));
    put("date_min", () -> LocalDate.of(1, 1, 1));
    put("time", () -> LocalTime.of(1, 2, 3, 4000));
    put("datetime", () -> LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123456000));
    put("datetime_max", () -> LocalDateTime.of(9999, 12, 31, 23, 59, 59, 999999000));
    put("timedelta", () -> Duration.ofDays(-1).plusSeconds(5).plusNanos(7000));
    put("timedelta_big", () -> Duration.ofDays(999999999).plusSeconds(86399));
    ZoneOffset ist = ZoneOffset.ofHoursMinutes(5, 30);
    put("datetime_aware", () -> OffsetDateTime.of(2024, 2, 29, 13, 14, 15, 123456000, ist));
    put("datetime_utc", () -> OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
    put("datetime_neg", () -> OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.ofHours(-8)));
    put("time_aware", () -> OffsetTime.of(23, 59, 0, 1000, ist));
    put("timezone", () -> ist);
    put("decimal", () -> new BigDecimal("3.14159"));
    put("decimal_exp", () -> new BigDecimal("-1E+3"));
    put("decimal_big", () -> new BigDecimal("1234567890123456789012345678901234567890.000001"));
    put("decimal_nan", () -> PyObject.call("decimal.Decimal", "NaN"));
    put("uuid", () -> UUID.fromString("12345678-1234-5678-1234-567812345678"));
    put("ordered_dict", () -> new PyOrderedDict(map("b", 1, "a", 2)));
    put("defaultdict_list", () -> defaultDict("list", "a", list(1)));
    put("defaultdict_int", () -> defaultDict("int", "x", 3));
    put("defaultdict_none", () -> {
      PyDefaultDict d = new PyDefaultDict();
      d.put(1, 2);
      return d;
    });
    put("counter", () -> new PyCounter(map("a", 2, "b", 1)));
    put("deque", () -> new PyDeque(list(1, "a")));
    put("deque_maxlen", () -> {
      PyDeque d = new PyDeque(5);
      d.addAll(List.of(1, 2));
      return d;
    });
    put("fraction", () -> PyFraction.of(3, 4));
    put("fraction_whole", () -> PyFraction.of(-5, 1));
    put("array_i", () -> PyArray.of("i", List.of(1, -2, 3)));
    put("array_d", () -> PyArray.of("d", List.of(1.5, -2.0)));
    put("array_B", () -> PyArray.of("B", List.of(0, 255)));
    put("array_empty", () -> PyArray.of("h", List.of()));
    put("array_Q", () -> PyArray.of("Q", List.of(BigInteger.TWO.pow(64).subtract(BigInteger.ONE))));
    put("range", () -> new PyRange(1, 11, 2));
    put("slice", () -> new PySlice(1, null, 2));
    put("ellipsis", () -> PyConstant.ELLIPSIS);
    put("not_implemented", () -> PyConstant.NOT_IMPLEMENTED);
    put("datetime_zoneinfo", () -> ZonedDateTime.of(2024, 7, 1, 12, 0, 5, 7000, PARIS));
    put("datetime_zoneinfo_fold", () -> ZonedDateTime.of(2024, 10, 27, 2, 30, 0, 0, PARIS)
        .withLaterOffsetAtOverlap());
    put("shared", () -> {
      List<Object> shared = list(1);
      return list(shared, shared);
    });
    put("recursive_list", () -> {
      List<Object> l = new ArrayList<>();
      l.add(l);
      return l;
    });
    put("recursive_dict", () -> {
      Map<Object, Object> d = new LinkedHashMap<>();
      d.put("self", d);
      return d;
    });
    put("recursive_tuple", () -> {
      List<Object> inner = new ArrayList<>();
      PyTuple t = PyTuple.of(inner);
      inner.add(t);
      return t;
    });
    put("picklebuffer_ro", () -> new byte[] {'a', 'b', 'c'});
    put("picklebuffer_rw", () -> PyBytearray.of(new byte[] {'a', 'b', 'c'}));
    put("np_i4_2x3", () -> NdArray.of(DType.INT32, new int[] {2, 3}, new int[] {0, 1, 2, 3, 4, 5}));
    put("np_f8", () -> NdArray.of(DType.FLOAT64, new int[] {3}, new double[] {1.5, -2.0, 1e300}));
    put("np_f4_3d", () -> {
      float[] f = new float[24];
      for (int i = 0; i < 24; i++) f[i] = i;
      return NdArray.of(DType.FLOAT32, new int[] {2, 3, 4}, f);
    });
    put("np_bool", () -> NdArray.of(DType.BOOL, new int[] {3}, new boolean[] {true, false, true}));
    put("np_u1", () -> NdArray.of(DType.UINT8, new int[] {3},
        new byte[] {0, (byte) 200, (byte) 255}));
    put("np_i8_fortran", () -> NdArray.of(DType.INT64, new int[] {2, 3},
        new long[] {0, 1, 2, 3, 4, 5}));
    put("np_i2_big_endian", () -> NdArray.of(DType.INT16, new int[] {3}, new short[] {1, -2, 300}));
    put("np_c16", () -> NdArray.of(DType.COMPLEX128, new int[] {2},
        new double[] {1, 2, -0.0, -3.5}));
    put("np_empty", () -> NdArray.of(DType.FLOAT64, new int[] {0, 3}, new double[0]));
    put("np_scalar_f8", () -> 1.5);
    put("np_scalar_i8", () -> -7);
  }

  private static PyDefaultDict defaultDict(String factory, Object key, Object value) {
    PyDefaultDict d = new PyDefaultDict(new PyGlobal("builtins", factory));
    d.put(key, value);
    return d;
  }

  private static void put(String name, Supplier<Object> value) {
    CASES.put(name, value);
  }

  static List<Object> list(Object... items) {
    return new ArrayList<>(Arrays.asList(items));
  }

  static Map<Object, Object> map(Object... keysAndValues) {
    Map<Object, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) m.put(keysAndValues[i], keysAndValues[i + 1]);
    return m;
  }

  static Set<String> names() {
    return CASES.keySet();
  }

  static boolean has(String name) {
    return CASES.containsKey(name);
  }

  /** A fresh value of the case. */
  static Object value(String name) {
    Supplier<Object> supplier = CASES.get(name);
    if (supplier == null) throw new IllegalArgumentException("no such case: " + name);
    return supplier.get();
  }

  /**
   * What decoding the case gives when Python {@code major} wrote it: Python 2 {@code str} (which
   * the bytes cases are there) decodes to a Latin-1 {@code String}.
   */
  static Object decoded(String name, int major) {
    Object value = value(name);
    if (major == 2 && value instanceof byte[] bytes) {
      return new String(bytes, StandardCharsets.ISO_8859_1);
    }
    return value;
  }
}
