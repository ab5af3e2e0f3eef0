package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyComplex;
import dev.ferry.pickle.PyTuple;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Each expected string is what CPython's {@code repr} prints for the same Python value. */
class PyReprTest {
  @Test
  void printsNoneBoolsAndInts() {
    assertEquals("None", PyRepr.of(null));
    assertEquals("True", PyRepr.of(true));
    assertEquals("False", PyRepr.of(false));
    assertEquals("-7", PyRepr.of(-7));
    assertEquals("9223372036854775807", PyRepr.of(Long.MAX_VALUE));
    assertEquals("1267650600228229401496703205376", PyRepr.of(BigInteger.TWO.pow(100)));
  }

  @Test
  void printsFloatsWithPythonsShortestDigitsAndExponentRules() {
    assertEquals("1.5", PyRepr.of(1.5));
    assertEquals("100.0", PyRepr.of(100.0));
    assertEquals("0.30000000000000004", PyRepr.of(0.1 + 0.2));
    assertEquals("0.0001", PyRepr.of(1e-4));
    assertEquals("1e-05", PyRepr.of(1e-5));
    assertEquals("1.5e-07", PyRepr.of(1.5e-7));
    assertEquals("1234567890123456.0", PyRepr.of(1234567890123456.0));
    assertEquals("1e+16", PyRepr.of(1e16));
    assertEquals("1.2345e+100", PyRepr.of(1.2345e100));
    assertEquals("-2.5", PyRepr.of(-2.5));
    assertEquals("-0.0", PyRepr.of(-0.0));
    assertEquals("inf", PyRepr.of(Double.POSITIVE_INFINITY));
    assertEquals("-inf", PyRepr.of(Double.NEGATIVE_INFINITY));
    assertEquals("nan", PyRepr.of(Double.NaN));
  }

  @Test
  void quotesStringsAsPythonDoes() {
    assertEquals("'hello'", PyRepr.of("hello"));
    assertEquals("''", PyRepr.of(""));
    assertEquals("\"it's\"", PyRepr.of("it's"));
    assertEquals("'it\\'s \"quoted\"'", PyRepr.of("it's \"quoted\""));
    assertEquals("'a\\\\b\\n\\r\\t'", PyRepr.of("a\\b\n\r\t"));
    assertEquals("'\\x00\\x7f\\x85'", PyRepr.of("\u0000\u007f\u0085"));
    assertEquals("'wörld ✓ 😀'", PyRepr.of("wörld ✓ \uD83D\uDE00"));
    assertEquals("'\\u200b\\u2028\\U000e0001\\ud800'", PyRepr.of("\u200b\u2028\uDB40\uDC01\uD800"));
  }

  @Test
  void printsBytesAndBytearrayAsPythonDoes() {
    assertEquals("b'\\x00\\x01\\xfe\\xff'", PyRepr.of(new byte[] {0, 1, (byte) 0xfe, (byte) 0xff}));
    assertEquals("b''", PyRepr.of(new byte[0]));
    assertEquals("b'hi\\n\\t\\\\'", PyRepr.of(new byte[] {'h', 'i', '\n', '\t', '\\'}));
    assertEquals("b\"'\"", PyRepr.of(new byte[] {'\''}));
    assertEquals("b'\\'\"'", PyRepr.of(new byte[] {'\'', '"'}));
    assertEquals("bytearray(b'ok')", PyRepr.of(PyBytearray.of(new byte[] {'o', 'k'})));
  }

  @Test
  void printsListsTuplesAndDicts() {
    assertEquals("[1, 'two', [3.0, None]]", PyRepr.of(List.of(1, "two", Arrays.asList(3.0, null))));
    assertEquals("[]", PyRepr.of(List.of()));
    assertEquals("()", PyRepr.of(PyTuple.empty()));
    assertEquals("(1,)", PyRepr.of(PyTuple.of(1)));
    assertEquals("(1, 'a')", PyRepr.of(PyTuple.of(1, "a")));
    Map<Object, Object> dict = new LinkedHashMap<>();
    dict.put("a", 1);
    dict.put(PyTuple.of(1, 2), List.of());
    dict.put(null, Map.of());
    assertEquals("{'a': 1, (1, 2): [], None: {}}", PyRepr.of(dict));
  }

  @Test
  void printsSetsAndFrozensetsIncludingEmptyOnes() {
    assertEquals("{1, 2, 3}", PyRepr.of(new LinkedHashSet<>(List.of(1, 2, 3))));
    assertEquals("set()", PyRepr.of(new LinkedHashSet<>()));
    assertEquals("frozenset({'a'})", PyRepr.of(PickleCodec.frozenSet(List.of("a"))));
    assertEquals("frozenset()", PyRepr.of(PickleCodec.frozenSet(Set.of())));
  }

  @Test
  void printsContainersThatContainThemselvesAsPythonDoes() {
    List<Object> list = new ArrayList<>(List.of(1));
    list.add(list);
    assertEquals("[1, [...]]", PyRepr.of(list));
    Map<Object, Object> dict = new LinkedHashMap<>();
    dict.put("self", dict);
    assertEquals("{'self': {...}}", PyRepr.of(dict));
    List<Object> shared = List.of(1);
    assertEquals("[[1], [1]]", PyRepr.of(List.of(shared, shared)), "shared is not a cycle");
  }

  @Test
  void cutsNestingDeeperThanTheLimitInsteadOfOverflowingTheStack() {
    Object value = "bottom";
    for (int i = 0; i < 100_000; i++) value = List.of(value);
    String repr = PyRepr.of(value);
    assertTrue(repr.startsWith("[[[[") && repr.contains("...") && !repr.contains("bottom"),
        repr.substring(0, 20));
  }

  @Test
  void printsComplexNumbersAsPythonDoes() {
    assertEquals("(1+2j)", PyRepr.of(new PyComplex(1, 2)));
    assertEquals("(1.5-0.5j)", PyRepr.of(new PyComplex(1.5, -0.5)));
    assertEquals("2j", PyRepr.of(new PyComplex(0, 2)));
    assertEquals("(1-0j)", PyRepr.of(new PyComplex(1, -0.0)));
  }

  @Test
  void printsDatetimeDecimalAndUuidAsPythonReprs() {
    assertEquals("datetime.date(2024, 2, 29)", PyRepr.of(LocalDate.of(2024, 2, 29)));
    assertEquals("datetime.datetime(2024, 2, 29, 12, 30)",
        PyRepr.of(LocalDateTime.of(2024, 2, 29, 12, 30)));
    assertEquals("datetime.datetime(2024, 2, 29, 12, 30, 0, 5)",
        PyRepr.of(LocalDateTime.of(2024, 2, 29, 12, 30, 0, 5_000)));
    assertEquals("datetime.datetime(2024, 2, 29, 12, 30, 1, tzinfo=datetime.timezone.utc)",
        PyRepr.of(OffsetDateTime.of(2024, 2, 29, 12, 30, 1, 0, ZoneOffset.UTC)));
    assertEquals("datetime.time(0, 0)", PyRepr.of(LocalTime.MIDNIGHT));
    assertEquals("datetime.time(1, 2, 3, tzinfo=datetime.timezone(datetime.timedelta("
            + "days=-1, seconds=68400)))",
        PyRepr.of(OffsetTime.of(1, 2, 3, 0, ZoneOffset.ofHours(-5))));
    assertEquals("datetime.timedelta(0)", PyRepr.of(Duration.ZERO));
    assertEquals("datetime.timedelta(days=-1, seconds=86399, microseconds=999999)",
        PyRepr.of(Duration.ofNanos(-1000)));
    assertEquals("datetime.timedelta(days=2, microseconds=7)",
        PyRepr.of(Duration.ofDays(2).plusNanos(7000)));
    assertEquals("datetime.timezone(datetime.timedelta(seconds=3600))",
        PyRepr.of(ZoneOffset.ofHours(1)));
    assertEquals("Decimal('1.50')", PyRepr.of(new BigDecimal("1.50")));
    assertEquals("Decimal('1E+3')", PyRepr.of(new BigDecimal("1E+3")));
    assertEquals("UUID('00000000-0000-0000-0000-000000000005')", PyRepr.of(new UUID(0, 5)));
  }

  @Test
  void printsNumpyArraysByDtypeAndShapeAndTheirElementsOnRequest() {
    NdArray matrix = NdArray.of(NdArray.DType.FLOAT64, new int[] {2, 3},
        new double[] {0, 1, 2, 3, 4, 5});
    assertEquals("array(dtype=float64, shape=(2, 3))", PyRepr.of(matrix));
    assertEquals("[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]", PyRepr.elements(matrix));
    NdArray bytes = NdArray.of(NdArray.DType.UINT8, new int[] {3}, new byte[] {0, 127, -1});
    assertEquals("array(dtype=uint8, shape=(3,))", PyRepr.of(bytes));
    assertEquals("[0, 127, 255]", PyRepr.elements(bytes));
    NdArray scalar = NdArray.of(NdArray.DType.COMPLEX128, new int[0], new double[] {1, -2});
    assertEquals("array(dtype=complex128, shape=())", PyRepr.of(scalar));
    assertEquals("(1-2j)", PyRepr.elements(scalar));
    NdArray empty = NdArray.of(NdArray.DType.INT32, new int[] {0, 4}, new int[0]);
    assertEquals("[]", PyRepr.elements(empty));
  }
}
