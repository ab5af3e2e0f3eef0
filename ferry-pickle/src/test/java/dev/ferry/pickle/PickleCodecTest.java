package dev.ferry.pickle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.codec.CodecException;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class PickleCodecTest {
  private static final HexFormat HEX = HexFormat.of();
  private static final PickleCodec CODEC = PickleCodec.standard();

  static byte[] bytes(String latin1) {
    return latin1.getBytes(StandardCharsets.ISO_8859_1);
  }

  @TestFactory
  Stream<DynamicTest> roundTripsEveryCaseAtEveryProtocol() {
    return Stream.of(2, 3, 4, 5).flatMap(protocol -> Cases.names().stream()
        .filter(name -> !Cases.DECODE_ONLY.contains(name))
        .map(name -> DynamicTest.dynamicTest(name + " protocol " + protocol, () -> {
          PickleCodec codec = PickleCodec.builder().protocol(protocol).build();
          Object decoded = codec.loads(codec.dumps(Cases.value(name)));
          CPythonInteropTest.checkDecoded(name, Cases.value(name), decoded);
        })));
  }

  @Test
  void writesTinyPicklesWithoutFrameLikeCPython() throws Exception {
    assertEquals("80024b012e", HEX.formatHex(PickleCodec.builder().protocol(2).build().dumps(1)));
    assertEquals("80034b012e", HEX.formatHex(PickleCodec.builder().protocol(3).build().dumps(1)));
    assertEquals("80044b012e", HEX.formatHex(CODEC.dumps(1)));
  }

  @Test
  void framesProtocolFourPicklesOfFourBytesOrMore() throws Exception {
    byte[] pickle = CODEC.dumps("x".repeat(25));
    assertEquals("8004951d000000000000008c19", HEX.formatHex(pickle, 0, 13));
    assertEquals(2 + 9 + 0x1d, pickle.length);
  }

  @Test
  void encodeWritesToTheStreamAndDecodeReadsFromBufferPosition() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {9, 9});
    CODEC.encode(List.of("a", 1), out);
    ByteBuffer buffer = ByteBuffer.wrap(out.toByteArray());
    buffer.position(2);
    assertEquals(List.of("a", 1), CODEC.decode(buffer));
    assertEquals("pickle", CODEC.name());
  }

  @Test
  void decodesFromDirectAndReadOnlyBuffersWithoutKeepingThem() throws Exception {
    byte[] pickle = CODEC.dumps(Cases.list(new byte[] {1, 2}, "s"));
    ByteBuffer direct = ByteBuffer.allocateDirect(pickle.length + 3);
    direct.put(new byte[] {7, 7, 7}).put(pickle).flip().position(3);
    List<?> decoded = (List<?>) CODEC.decode(direct.asReadOnlyBuffer());
    direct.clear();
    while (direct.hasRemaining()) direct.put((byte) 0);
    assertArrayEquals(new byte[] {1, 2}, (byte[]) decoded.get(0));
    assertEquals("s", decoded.get(1));
  }

  @Test
  void servesManyThreadsAtOnce() throws Exception {
    List<Callable<Boolean>> tasks = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      String name = Cases.names().stream().skip(i % Cases.names().size()).findFirst().orElseThrow();
      tasks.add(() -> {
        for (int r = 0; r < 20; r++) {
          Object back = CODEC.loads(CODEC.dumps(Cases.value(name)));
          CPythonInteropTest.checkDecoded(name, Cases.value(name), back);
        }
        return true;
      });
    }
    AtomicInteger threads = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8,
        task -> new Thread(task, "pickle-test-" + threads.incrementAndGet()));
    try {
      for (Future<Boolean> f : pool.invokeAll(tasks)) assertTrue(f.get());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void defaultsToProtocolFour() {
    assertEquals(4, PickleCodec.DEFAULT_PROTOCOL);
    assertEquals(4, PickleCodec.standard().protocol());
  }

  @Test
  void choosesProtocolForPeerVersion() {
    assertEquals(2, PickleCodec.protocolFor("2.7.18"));
    assertEquals(3, PickleCodec.protocolFor("3.3"));
    assertEquals(4, PickleCodec.protocolFor("3.6.15"));
    assertEquals(4, PickleCodec.protocolFor("3.8"));
    assertEquals(4, PickleCodec.protocolFor("3.13.0"));
    assertEquals(5, PickleCodec.protocolFor("3.14.0rc1"));
    assertEquals(2, PickleCodec.builder().peer("2.7").build().protocol());
  }

  @Test
  void rejectsUnknownPeerVersions() {
    assertEquals("not a python version: three",
        assertThrows(IllegalArgumentException.class, () -> PickleCodec.protocolFor("three"))
            .getMessage());
    assertEquals("unsupported python version: 4.0",
        assertThrows(IllegalArgumentException.class, () -> PickleCodec.protocolFor("4.0"))
            .getMessage());
  }

  @Test
  void rejectsProtocolsItCannotWrite() {
    assertEquals("protocol not in 2..5: 1", assertThrows(IllegalArgumentException.class,
        () -> PickleCodec.builder().protocol(1)).getMessage());
    assertThrows(IllegalArgumentException.class, () -> PickleCodec.builder().protocol(6));
    assertThrows(IllegalArgumentException.class, () -> PickleCodec.builder().maxDepth(0));
  }

  @Test
  void decodesIntegersToTheSmallestJavaType() throws Exception {
    assertInstanceOf(Integer.class, CODEC.loads(CODEC.dumps(5L)));
    assertInstanceOf(Long.class, CODEC.loads(CODEC.dumps(1L << 40)));
    assertInstanceOf(BigInteger.class, CODEC.loads(CODEC.dumps(BigInteger.TWO.pow(64))));
    assertEquals(5, CODEC.loads(CODEC.dumps(BigInteger.valueOf(5))));
    assertEquals(7, CODEC.loads(CODEC.dumps((short) 7)));
    assertEquals(-1, CODEC.loads(CODEC.dumps((byte) -1)));
  }

  @Test
  void decodesPython2StrAsLatin1String() throws Exception {
    assertEquals("h\u00e9", CODEC.loads(bytes("\u0080\u0002U\u0002h\u00e9q\u0000.")));
    assertEquals("a\n\u00ff'", CODEC.loads(bytes("S'a\\n\\xff\\''\np0\n.")));
  }

  @Test
  void decodesProtocolZeroBooleansAndLongs() throws Exception {
    assertEquals(List.of(true, false, 12345678901234L, new BigInteger("123456789012345678901")),
        CODEC.loads(bytes("(lp0\nI01\naI00\naI12345678901234\naL123456789012345678901L\na.")));
  }

  @Test
  void keepsLoneSurrogatesLikePythonSurrogatepass() throws Exception {
    byte[] pickle = CODEC.dumps("\ud800");
    assertEquals("80049507000000000000008c03eda080942e", HEX.formatHex(pickle));
    assertEquals("\ud800", CODEC.loads(pickle));
  }

  @Test
  void encodesRecordsAsDicts() throws Exception {
    record Point(int x, String label) {}
    Object decoded = CODEC.loads(CODEC.dumps(List.of(new Point(1, "a"), new Point(2, "b"))));
    assertEquals(List.of(Map.of("x", 1, "label", "a"), Map.of("x", 2, "label", "b")), decoded);
  }

  @Test
  void encodesJavaArraysAsLists() throws Exception {
    assertEquals(List.of(1, 2), CODEC.loads(CODEC.dumps(new int[] {1, 2})));
    assertEquals(List.of(1.5), CODEC.loads(CODEC.dumps(new double[] {1.5})));
    assertEquals(Cases.list("a", null), CODEC.loads(CODEC.dumps(new Object[] {"a", null})));
    assertEquals("hi", CODEC.loads(CODEC.dumps(new char[] {'h', 'i'})));
    assertEquals("c", CODEC.loads(CODEC.dumps('c')));
    assertEquals(2.5, CODEC.loads(CODEC.dumps(2.5f)));
  }

  @Test
  void encodesListKeysAsTuplesAndSetItemsAsFrozensets() throws Exception {
    Map<?, ?> decoded = (Map<?, ?>) CODEC.loads(CODEC.dumps(Map.of(List.of(1, 2), "v")));
    assertEquals(PyTuple.of(1, 2), decoded.keySet().iterator().next());
    Set<Object> set = new LinkedHashSet<>();
    set.add(Set.of(1));
    Set<?> decodedSet = (Set<?>) CODEC.loads(CODEC.dumps(set));
    assertTrue(PickleCodec.isFrozenSet((Set<?>) decodedSet.iterator().next()));
  }

  @Test
  void encodesInstantAndZonedDateTimeAsAwareDatetimes() throws Exception {
    Instant instant = Instant.parse("2024-01-02T03:04:05.123456Z");
    assertEquals(instant.atOffset(ZoneOffset.UTC), CODEC.loads(CODEC.dumps(instant)));
    ZonedDateTime fixed = ZonedDateTime.of(2024, 7, 1, 12, 0, 0, 0, ZoneOffset.ofHours(2));
    assertEquals(OffsetDateTime.of(2024, 7, 1, 12, 0, 0, 0, ZoneOffset.ofHours(2)),
        CODEC.loads(CODEC.dumps(fixed)));
  }

  @Test
  void keepsZoneRulesAndFoldOfZonedDateTimeThroughZoneinfo() throws Exception {
    ZonedDateTime second = ZonedDateTime.of(2024, 10, 27, 2, 30, 0, 0, ZoneId.of("Europe/Paris"))
        .withLaterOffsetAtOverlap();
    ZonedDateTime back = (ZonedDateTime) CODEC.loads(CODEC.dumps(second));
    assertEquals(second, back);
    assertEquals(ZoneOffset.ofHours(1), back.getOffset());
    ZoneId newYork = ZoneId.of("America/New_York");
    assertEquals(newYork, CODEC.loads(CODEC.dumps(newYork)));
  }

  @Test
  void truncatesNanosecondsToMicroseconds() throws Exception {
    assertEquals(java.time.LocalTime.of(1, 2, 3, 123456000),
        CODEC.loads(CODEC.dumps(java.time.LocalTime.of(1, 2, 3, 123456789))));
  }

  @Test
  void refusesDatesPythonCannotHold() {
    assertEquals("year out of python range 1..9999: 10000", assertThrows(CodecException.class,
        () -> CODEC.dumps(java.time.LocalDate.of(10000, 1, 1))).getMessage());
  }

  @Test
  void refusesJavaTypesWithoutPythonCounterpart() {
    assertEquals("cannot pickle java.lang.Object",
        assertThrows(CodecException.class, () -> CODEC.dumps(new Object())).getMessage());
  }

  @Test
  void refusesValuesNestedDeeperThanTheLimit() throws Exception {
    List<Object> outer = nested(1001);
    assertEquals("value nested deeper than 1000",
        assertThrows(CodecException.class, () -> CODEC.dumps(outer)).getMessage());
    PickleCodec shallow = PickleCodec.builder().maxDepth(10).build();
    assertEquals("value nested deeper than 10",
        assertThrows(CodecException.class, () -> shallow.dumps(nested(11))).getMessage());
    List<Object> deepest = nested(1000);
    assertEquals(1, ((List<?>) CODEC.loads(CODEC.dumps(deepest))).size());
  }

  private static List<Object> nested(int depth) {
    List<Object> outer = new ArrayList<>();
    List<Object> list = outer;
    for (int i = 0; i < depth; i++) {
      List<Object> inner = new ArrayList<>();
      list.add(inner);
      list = inner;
    }
    return outer;
  }

  @Test
  void decodesAllowedClassToGenericObject() throws Exception {
    // Python: class Point: pass; p = Point(); p.x = 1; pickle.dumps(p, 2)
    byte[] pickle = bytes("\u0080\u0002cshapes\nPoint\nq\u0000)\u0081q\u0001}q\u0002"
        + "X\u0001\u0000\u0000\u0000xq\u0003K\u0001sb.");
    assertEquals("global not allowed: shapes.Point",
        assertThrows(CodecException.class, () -> CODEC.loads(pickle)).getMessage());
    PickleCodec allowing = PickleCodec.builder().allow("shapes.Point").build();
    PyObject point = assertInstanceOf(PyObject.class, allowing.loads(pickle));
    assertEquals(new PyGlobal("shapes", "Point"), point.type());
    assertEquals(PyObject.Construction.NEW, point.construction());
    assertEquals(PyTuple.empty(), point.args());
    assertEquals(Map.of("x", 1), point.state());
    PickleCodec module = PickleCodec.builder().allow("shapes.*").build();
    assertInstanceOf(PyObject.class, module.loads(pickle));
  }

  @Test
  void decodesPython2DictSubclassAtProtocolZero() throws Exception {
    // Python 2: class D(dict): pass; d = D(a=1); d.x = 2; pickle.dumps(d, 0)
    byte[] pickle = bytes("ccopy_reg\n_reconstructor\np0\n(cm\nD\np1\nc__builtin__\ndict\np2\n"
        + "(dp3\nS'a'\np4\nI1\nstp5\nRp6\n(dp7\nS'x'\np8\nI2\nsb.");
    PyObject d = assertInstanceOf(PyObject.class,
        PickleCodec.builder().allow("m.D").build().loads(pickle));
    assertEquals(PyObject.Construction.NEW, d.construction());
    assertEquals(PyTuple.of(Map.of("a", 1)), d.args());
    assertEquals(Map.of("x", 2), d.state());
  }

  @Test
  void writesGenericObjectsBack() throws Exception {
    PyObject deque = PyObject.call("m.Queue", Cases.list(1, 2), 5);
    PickleCodec allowing = PickleCodec.builder().allow("m.Queue").build();
    PyObject decoded = (PyObject) allowing.loads(allowing.dumps(deque));
    assertEquals(deque.type(), decoded.type());
    assertEquals(deque.args(), decoded.args());
    assertNull(decoded.state());
    PyObject withState = PyObject.of(new PyGlobal("m", "C"), PyObject.Construction.NEW,
        PyTuple.empty(), Map.of("a", 1)).withListItems(List.of(1)).withDictItems(Map.of("k", 2));
    PickleCodec m = PickleCodec.builder().allow("m.C").build();
    PyObject back = (PyObject) m.loads(m.dumps(withState));
    assertEquals(Map.of("a", 1), back.state());
    assertEquals(List.of(1), back.listItems());
    assertEquals(Map.of("k", 2), back.dictItems());
  }

  @Test
  void decodesUncalledGlobalAsPyGlobal() throws Exception {
    PickleCodec allowing = PickleCodec.builder().allow("m.Queue").build();
    PyGlobal deque = new PyGlobal("m", "Queue");
    assertEquals(deque, allowing.loads(allowing.dumps(deque)));
    assertEquals("global not allowed: m.Queue",
        assertThrows(CodecException.class, () -> CODEC.loads(CODEC.dumps(deque))).getMessage());
  }

  record Celsius(double degrees) {}

  @Test
  void mapsRegisteredPythonClassToJavaTypeBothWays() throws Exception {
    PickleMapping<Celsius> mapping = PickleMapping.of("units.Celsius", Celsius.class,
        o -> new Celsius((Double) ((Map<?, ?>) o.state()).get("degrees")),
        c -> PyObject.of(new PyGlobal("units", "Celsius"), PyObject.Construction.NEW,
            PyTuple.empty(), Map.of("degrees", c.degrees())));
    PickleCodec codec = PickleCodec.builder().register(mapping).build();
    Celsius c = new Celsius(21.5);
    Object decoded = codec.loads(codec.dumps(Map.of("in", List.of(c, c))));
    List<?> list = (List<?>) ((Map<?, ?>) decoded).get("in");
    assertEquals(List.of(c, c), list);
    assertSame(list.get(0), list.get(1));
    assertEquals("global not allowed: units.Celsius",
        assertThrows(CodecException.class, () -> CODEC.loads(codec.dumps(c))).getMessage());
  }

  @Test
  void keepsDecimalNaNAsGenericDecimal() throws Exception {
    byte[] pickle = bytes("\u0080\u0002cdecimal\nDecimal\nX\u0003\u0000\u0000\u0000NaN\u0085R.");
    PyObject nan = assertInstanceOf(PyObject.class, CODEC.loads(pickle));
    assertEquals(PyTuple.of("NaN"), nan.args());
    assertInstanceOf(PyObject.class, CODEC.loads(CODEC.dumps(nan)));
  }

  @Test
  void copiesValueTypesOnTheWayIn() {
    byte[] raw = {1, 2};
    PyBytearray b = PyBytearray.of(raw);
    raw[0] = 9;
    assertArrayEquals(new byte[] {1, 2}, b.toByteArray());
    List<Object> items = Cases.list(1);
    PyTuple t = new PyTuple(items);
    items.add(2);
    assertEquals(1, t.size());
    int[] data = {1, 2};
    NdArray a = NdArray.of(NdArray.DType.INT32, new int[] {2}, data);
    data[0] = 9;
    assertArrayEquals(new int[] {1, 2}, (int[]) a.data());
  }

  @Test
  void rejectsNdArrayWhoseDataDoesNotFitTheShape() {
    assertEquals("shape [2, 2] of INT32 needs 4 array slots, not 3",
        assertThrows(IllegalArgumentException.class,
            () -> NdArray.of(NdArray.DType.INT32, new int[] {2, 2}, new int[3])).getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> NdArray.of(NdArray.DType.INT32, new int[] {2}, new long[2]));
  }

  @Test
  void printsTuplesLikePython() {
    assertEquals("(1,)", PyTuple.of(1).toString());
    assertEquals("(1, a)", PyTuple.of(1, "a").toString());
    assertEquals("(1.0-2.0j)", new PyComplex(1, -2).toString());
  }
}
