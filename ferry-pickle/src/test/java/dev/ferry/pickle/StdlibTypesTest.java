package dev.ferry.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ferry.codec.CodecException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/**
 * The standard library's data types: what arrives from hand-written pickles (protocol 0, as a
 * peer could write them) and what is refused. Round trips against every CPython are in
 * {@link CPythonInteropTest}.
 */
class StdlibTypesTest {
  private static final PickleCodec CODEC = PickleCodec.standard();

  private static Object load(String protocol0) throws CodecException {
    return CODEC.loads(protocol0.getBytes(StandardCharsets.ISO_8859_1));
  }

  private static String refusal(String protocol0) {
    return assertThrows(CodecException.class, () -> load(protocol0)).getMessage();
  }

  @Test
  void keepsTheFactoryOfADefaultdictAndItsItems() throws Exception {
    PyDefaultDict d = assertInstanceOf(PyDefaultDict.class,
        load("ccollections\ndefaultdict\n(c__builtin__\nlist\ntRI1\n(lp1\nI2\nas."));
    assertEquals(Optional.of(new PyGlobal("builtins", "list")), d.factory());
    assertEquals(Map.of(1, List.of(2)), d);
    assertEquals(Optional.of(new PyGlobal("builtins", "int")),
        ((PyDefaultDict) load("ccollections\ndefaultdict\n(c__builtin__\nlong\ntR.")).factory());
  }

  @Test
  void refusesADefaultdictWhoseFactoryIsNotAllowed() {
    assertEquals("global not allowed: os.system",
        refusal("ccollections\ndefaultdict\n(cos\nsystem\ntR."));
  }

  @Test
  void getattrReachesOnlyAttributesThatAreAllowedThemselves() throws Exception {
    assertEquals("global not allowed: builtins.int.__subclasses__",
        refusal("c__builtin__\ngetattr\n(c__builtin__\nint\nS'__subclasses__'\ntR."));
    assertEquals(ZoneId.of("Europe/Paris"), load(
        "c__builtin__\ngetattr\n(czoneinfo\nZoneInfo\nS'_unpickle'\ntR(S'Europe/Paris'\nI1\ntR."));
  }

  @Test
  void refusesAZoneTheJdkDoesNotKnow() {
    assertEquals("unknown time zone: Mars/Olympus",
        refusal("czoneinfo\nZoneInfo\n(S'Mars/Olympus'\ntR."));
  }

  @Test
  void readsEllipsisAndNotImplementedAsConstants() throws Exception {
    assertSame(PyConstant.ELLIPSIS, load("c__builtin__\nEllipsis\n."));
    assertSame(PyConstant.NOT_IMPLEMENTED, load("cbuiltins\nNotImplemented\n."));
    List<PyConstant> both = List.of(PyConstant.ELLIPSIS, PyConstant.NOT_IMPLEMENTED);
    assertEquals(both, CODEC.loads(CODEC.dumps(both)));
  }

  @Test
  void readsPython2FractionStringsAndRefusesAZeroDenominator() throws Exception {
    assertEquals(PyFraction.of(-3, 4), load("cfractions\nFraction\n(S'-6/8'\ntR."));
    assertEquals(PyFraction.of(3, 2), load("cfractions\nFraction\n(S'1.5'\ntR."));
    assertEquals("bad fractions.Fraction: zero denominator: 1",
        refusal("cfractions\nFraction\n(I1\nI0\ntR."));
    assertEquals("bad fraction: 1/x", refusal("cfractions\nFraction\n(S'1/x'\ntR."));
    // Lowest terms need a gcd, quadratic in the size: 1e99999 would be 332,000 bits.
    assertEquals("fraction of 332190 bits > limit 65536",
        refusal("cfractions\nFraction\n(S'1e99999'\ntR."));
    assertEquals("fraction exponent out of range: 1e999999999",
        refusal("cfractions\nFraction\n(S'1e999999999'\ntR."));
  }

  @Test
  void readsArraysFromEveryMachineFormatAndRefusesBadOnes() throws Exception {
    // _array_reconstructor(array, 'h', 5 = signed 16-bit big-endian, b'\xff\xfe\x01\x00')
    Object big = load("carray\n_array_reconstructor\n(carray\narray\nS'h'\nI5\n"
        + "c_codecs\nencode\n(V\u00ff\u00fe\u0001\u0000\nS'latin1'\ntRtR.");
    assertEquals(PyArray.of("h", List.of(-2, 256)), big);
    assertEquals("bad array typecode: z", refusal("carray\narray\n(S'z'\n(ltR."));
    assertEquals("array item out of range for 'B': 256",
        refusal("carray\narray\n(S'B'\n(lp0\nI256\natR."));
    assertEquals("array data of 3 bytes is not a multiple of 2", refusal(
        "carray\n_array_reconstructor\n(carray\narray\nS'h'\nI4\n"
            + "c_codecs\nencode\n(Vabc\nS'latin1'\ntRtR."));
  }

  @Test
  void readsRangesAndSlicesAndRefusesAZeroStep() throws Exception {
    assertEquals(new PyRange(0, 5, 1), load("c__builtin__\nxrange\n(I5\ntR."));
    assertEquals(new PySlice(null, 3, null), load("c__builtin__\nslice\n(I3\ntR."));
    assertEquals("range step is 0", refusal("c__builtin__\nrange\n(I0\nI5\nI0\ntR."));
  }

  @Test
  void keepsMaxlenOfADequeAndRefusesANegativeOne() throws Exception {
    PyDeque d = assertInstanceOf(PyDeque.class,
        load("ccollections\ndeque\n((lp0\nI1\naI5\ntR."));
    assertEquals(OptionalInt.of(5), d.maxLength());
    assertEquals(List.of(1), d);
    assertEquals("deque maxlen out of range: -1",
        refusal("ccollections\ndeque\n((lp0\nI-1\ntR."));
  }

  @Test
  void writesCountersAndOrderedDictsBackAsThemselves() throws Exception {
    PyCounter counter = new PyCounter(Map.of("a", 2));
    assertEquals(counter, assertInstanceOf(PyCounter.class, CODEC.loads(CODEC.dumps(counter))));
    PyOrderedDict ordered = new PyOrderedDict(Map.of("k", BigInteger.TWO.pow(70)));
    assertEquals(ordered,
        assertInstanceOf(PyOrderedDict.class, CODEC.loads(CODEC.dumps(ordered))));
  }

  @Test
  void refusesOtherStandardLibraryClassesUnlessAllowed() {
    assertEquals("global not allowed: collections.namedtuple",
        refusal("ccollections\nnamedtuple\n(S'P'\nS'x'\ntR."));
    assertEquals("global not allowed: pathlib.PosixPath",
        refusal("cpathlib\nPosixPath\n(S'/etc'\ntR."));
  }
}
