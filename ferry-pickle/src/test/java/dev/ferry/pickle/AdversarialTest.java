package dev.ferry.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ferry.codec.CodecException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Malformed and hostile pickles: each fails with a short CodecException, never hangs or errs. */
class AdversarialTest {
  private static final PickleCodec CODEC = PickleCodec.standard();

  private static byte[] bytes(String latin1) {
    return latin1.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) out.writeBytes(part);
    return out.toByteArray();
  }

  private static String refusal(byte[] pickle) {
    return refusal(CODEC, pickle);
  }

  private static String refusal(PickleCodec codec, byte[] pickle) {
    CodecException e = assertThrows(CodecException.class, () -> codec.loads(pickle));
    assertNull(e.getCause(), () -> "a runtime exception escaped the checks: " + e.getCause());
    return e.getMessage();
  }

  @Test
  void refusesGlobalsOutsideTheAllowList() {
    assertEquals("global not allowed: os.system",
        refusal(bytes("cos\nsystem\n(S'echo hi'\ntR.")));
    assertEquals("global not allowed: posix.system",
        refusal(bytes("\u0080\u0002cposix\nsystem\nX\u0002\u0000\u0000\u0000id\u0085R.")));
    assertEquals("global not allowed: builtins.eval",
        refusal(bytes("\u0080\u0004\u008c\u0008builtins\u008c\u0004eval\u0093.")));
    assertEquals("global not allowed: builtins.eval",
        refusal(bytes("c__builtin__\neval\n.")));
    assertEquals("global not allowed: subprocess.Popen",
        refusal(bytes("(csubprocess\nPopen\nS'ls'\no.")));
    assertEquals("global not allowed: os.system",
        refusal(bytes("(S'ls'\nios\nsystem\n.")));
  }

  @Test
  void refusesAllowedModuleGlobalsThatAreNotDataTypes() {
    assertEquals("global not allowed: datetime.sys", refusal(bytes("cdatetime\nsys\n.")));
    assertEquals("global not allowed: copyreg._reconstructor_x",
        refusal(bytes("ccopy_reg\n_reconstructor_x\n.")));
  }

  @Test
  void refusesReduceOnAValueThatIsNotAnAllowedCallable() {
    assertEquals("not callable: int", refusal(bytes("\u0080\u0002K\u0001)R.")));
    assertEquals("not callable: str",
        refusal(bytes("\u0080\u0004\u008c\u0006system\u0094)R.")));
    assertEquals("arguments must be a tuple, not list",
        refusal(bytes("\u0080\u0002cdecimal\nDecimal\n]R.")));
    // copyreg helpers only reach classes that are allowed themselves.
    assertEquals("global not allowed: os.system",
        refusal(bytes("\u0080\u0002ccopy_reg\n_reconstructor\ncos\nsystem\n")));
  }

  @Test
  void refusesPersistentIdsExtensionsAndOutOfBandBuffers() {
    assertEquals("persistent ids are not supported", refusal(bytes("Pfoo\n.")));
    assertEquals("extension codes are not supported", refusal(bytes("\u0080\u0002\u0082\u0001.")));
    // Only a bulk message (Bulk.receive) brings the buffers
    assertEquals("out-of-band buffer outside a bulk message",
        refusal(bytes("\u0080\u0005\u0097.")));
  }

  @Test
  void refusesHugeDeclaredLengthsWithoutAllocating() {
    String ff8 = "\u00ff".repeat(8);
    assertEquals("declared length 18446744073709551615 > 0 bytes left at offset 2".replace(
            "18446744073709551615", String.valueOf(Long.MAX_VALUE)),
        refusal(bytes("\u0080\u0004\u008d" + ff8)));
    assertEquals("declared length 2147483647 > 1 bytes left at offset 2",
        refusal(bytes("\u0080\u0004\u008e\u00ff\u00ff\u00ff\u007f\u0000\u0000\u0000\u0000x")));
    assertEquals("declared length 4294967295 > 0 bytes left at offset 2",
        refusal(bytes("\u0080\u0003X\u00ff\u00ff\u00ff\u00ff")));
    assertEquals("declared length 2147483647 > 0 bytes left at offset 2",
        refusal(bytes("\u0080\u0002\u008b\u00ff\u00ff\u00ff\u007f")));
    assertTrue(refusal(bytes("\u0080\u0005\u0096" + ff8)).startsWith("declared length"));
    assertEquals("frame length 4096 > 1 bytes left",
        refusal(bytes("\u0080\u0004\u0095\u0000\u0010\u0000\u0000\u0000\u0000\u0000\u0000.")));
    assertEquals("negative length -1 at offset 0", refusal(bytes("T\u00ff\u00ff\u00ff\u00ff")));
  }

  @Test
  void refusesTruncatedPickles() {
    assertEquals("pickle truncated: no STOP opcode after 0 bytes", refusal(new byte[0]));
    assertEquals("pickle truncated: no STOP opcode after 4 bytes",
        refusal(bytes("\u0080\u0002K\u0001")));
    assertEquals("pickle truncated at offset 3: need 4 bytes, 2 left",
        refusal(bytes("\u0080\u0002J\u0001\u0002")));
    assertEquals("pickle truncated at offset 0: no end of line", refusal(bytes("I12")));
  }

  @Test
  void everyTruncationOfEveryCaseFailsCleanly() throws Exception {
    int checked = 0;
    for (int protocol = 2; protocol <= 5; protocol++) {
      PickleCodec codec = PickleCodec.builder().protocol(protocol).build();
      for (String name : Cases.names()) {
        if (Cases.DECODE_ONLY.contains(name)) continue;
        byte[] pickle = codec.dumps(Cases.value(name));
        if (pickle.length > 4000) continue;
        for (int n = 0; n < pickle.length; n++) {
          refusal(Arrays.copyOf(pickle, n));
          checked++;
        }
      }
    }
    assertTrue(checked > 10_000, "checked " + checked);
  }

  @Test
  void refusesMalformedStacksAndMemo() {
    assertEquals("stack underflow at offset 2", refusal(bytes("\u0080\u0002a.")));
    assertEquals("stack underflow at offset 0", refusal(bytes(".")));
    assertEquals("no MARK before opcode at offset 1", refusal(bytes("Nt.")));
    assertEquals("memo key not found: 7", refusal(bytes("\u0080\u0002h\u0007.")));
    assertEquals("unknown opcode 0xff at offset 2", refusal(bytes("\u0080\u0002\u00ff.")));
    assertEquals("unsupported pickle protocol: 6", refusal(bytes("\u0080\u0006N.")));
    assertEquals("cannot append to int", refusal(bytes("K\u0001K\u0002a.")));
    assertEquals("cannot set items of list", refusal(bytes("]K\u0001K\u0002s.")));
    assertEquals("odd number of items for a dict", refusal(bytes("(K\u0001d.")));
    assertEquals("STACK_GLOBAL needs two str, not int and str",
        refusal(bytes("K\u0001\u008c\u0001x\u0093.")));
    assertEquals("bad memo index: x", refusal(bytes("Npx\n.")));
    assertEquals("bad integer: 12a", refusal(bytes("I12a\n.")));
    assertEquals("bad float: 1.5x", refusal(bytes("F1.5x\n.")));
    assertEquals("the STRING opcode argument must be quoted", refusal(bytes("Sabc\n.")));
    assertEquals("invalid utf-8 in string at byte 0", refusal(bytes("\u008c\u0001\u00ff.")));
    assertEquals("cannot set the state of int", refusal(bytes("K\u0001K\u0002b.")));
  }

  @Test
  void refusesUnhashableKeysAsPythonWould() {
    assertEquals("unhashable type: list", refusal(bytes("\u0080\u0004\u008f(]\u0090.")));
    assertEquals("unhashable type: dict", refusal(bytes("}}K\u0001s.")));
    assertEquals("unhashable type: list", refusal(bytes("\u0080\u0004(]\u0091.")));
  }

  @Test
  void refusesIncompleteObjects() {
    assertEquals("uuid.UUID used before its state was set",
        refusal(bytes("\u0080\u0002cuuid\nUUID\n)\u0081\u0085.")));
    assertEquals("bad uuid.UUID state",
        refusal(bytes("\u0080\u0002cuuid\nUUID\n)\u0081}b.")));
  }

  @Test
  void decodesDeeplyNestedTuplesWithoutRecursion() throws Exception {
    int depth = 200_000;
    byte[] pickle = concat(bytes("\u0080\u0002N"), bytes("\u0085".repeat(depth)), bytes("."));
    Object value = CODEC.loads(pickle);
    for (int i = 0; i < depth; i++) value = ((PyTuple) value).get(0);
    assertNull(value);
  }

  @Test
  void refusesDeeplyNestedKeysThatJavaWouldHashRecursively() {
    byte[] pickle = concat(bytes("\u0080\u0004\u008f(N"), bytes("\u0085".repeat(100_000)),
        bytes("\u0090."));
    assertEquals("key nested deeper than 1000", refusal(pickle));
  }

  @Test
  void survivesDeepMarksAndLists() throws Exception {
    assertEquals("pickle truncated: no STOP opcode after 1000000 bytes",
        refusal(bytes("(".repeat(1_000_000))));
    // A list nested a million deep through one memo slot, with a constant stack:
    // EMPTY_LIST, BINPUT 1, APPEND to the list below, POP, BINGET 1.
    int depth = 1_000_000;
    String pickle = "\u0080\u0002]q\u0000" + "]q\u0001a0h\u0001".repeat(depth) + "0h\u0000.";
    Object value = CODEC.loads(bytes(pickle));
    for (int i = 0; i < depth; i++) value = ((List<?>) value).get(0);
    assertEquals(List.of(), value);
  }

  @Test
  void refusesPicklesThatExpandBeyondTheirSize() {
    // One 100 kB str, then 2000 calls of _codecs.encode on it through the memo: 200 MB of bytes.
    String big = "a".repeat(100_000);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes("\u0080\u0002c_codecs\nencode\nq\u0000X"));
    out.writeBytes(new byte[] {(byte) 0xa0, (byte) 0x86, 0x01, 0});
    out.writeBytes(bytes(big + "q\u0001X\u0006\u0000\u0000\u0000latin1q\u0002("));
    for (int i = 0; i < 2000; i++) out.writeBytes(bytes("h\u0000h\u0001h\u0002\u0086R"));
    out.writeBytes(bytes("l."));
    String message = refusal(out.toByteArray());
    assertTrue(message.startsWith("pickle expands beyond"), message);
  }

  @Test
  void keepsMemoSmallWhateverTheIndices() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes("\u0080\u0002N"));
    for (long i = 0; i < 200_000; i++) {
      long index = i * 1024 + (i % 7 == 0 ? 0xffff_fff0L - i : 0);
      out.write('r');
      for (int b = 0; b < 4; b++) out.write((int) (index >>> (8 * b)));
    }
    out.writeBytes(bytes("j\u0000\u0004\u0000\u0000."));
    assertNull(CODEC.loads(out.toByteArray()));
    assertEquals("memo key not found: 1", refusal(bytes("\u0080\u0002Nq\u0000q\u0002h\u0001.")));
  }

  @Test
  void refusesHashingOneLargeTupleOverAndOver() {
    // A 100 000-item tuple, memoized, then added to a set 500 000 times: 5e10 hash steps.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(bytes("\u0080\u0004\u008f("));
    for (int i = 0; i < 100_000; i++) out.writeBytes(bytes("K\u0001"));
    out.writeBytes(bytes("t\u00940("));
    for (int i = 0; i < 500_000; i++) out.writeBytes(bytes("h\u0000"));
    out.writeBytes(bytes("\u0090."));
    String message = refusal(out.toByteArray());
    assertTrue(message.startsWith("pickle expands beyond"), message);
  }

  @Test
  void refusesHugeTextIntegers() {
    assertEquals("integer of 5000 digits > limit 4300",
        refusal(bytes("L" + "9".repeat(5000) + "L\n.")));
  }

  @Test
  void refusesOutOfRangeDatetimes() {
    assertEquals("bad datetime.date: Invalid value for MonthOfYear (valid values 1 - 12): 13",
        refusal(bytes("\u0080\u0002cdatetime\ndate\nM\u00e8\u0007K\rK\u0001\u0087R.")));
    String hugeDays = "\u008a\u0008" + "\u0000".repeat(7) + "\u0001";
    assertEquals("datetime.timedelta out of range",
        refusal(bytes("\u0080\u0002cdatetime\ntimedelta\n" + hugeDays + "\u0085R.")));
  }

  @Test
  void randomlyCorruptedPicklesFailOnlyWithCodecException() throws Exception {
    Random random = new Random(42);
    List<byte[]> seeds = new ArrayList<>();
    for (int protocol = 2; protocol <= 5; protocol++) {
      PickleCodec codec = PickleCodec.builder().protocol(protocol).build();
      for (String name : Cases.names()) {
        if (Cases.DECODE_ONLY.contains(name)) continue;
        byte[] pickle = codec.dumps(Cases.value(name));
        if (pickle.length < 2000) seeds.add(pickle);
      }
    }
    int failures = 0;
    for (int i = 0; i < 30_000; i++) {
      byte[] pickle = seeds.get(random.nextInt(seeds.size())).clone();
      int flips = 1 + random.nextInt(3);
      for (int f = 0; f < flips; f++) {
        pickle[random.nextInt(pickle.length)] = (byte) random.nextInt(256);
      }
      try {
        CODEC.loads(pickle);
      } catch (CodecException e) {
        if (e.getCause() != null) {
          fail("runtime exception escaped for " + Arrays.toString(pickle), e);
        }
        failures++;
      }
    }
    assertTrue(failures > 1000, "only " + failures + " corruptions detected");
  }

  @Test
  void refusesKeywordArgumentsForGenericObjects() {
    PickleCodec codec = PickleCodec.builder().allow("m.C").build();
    assertEquals("keyword arguments are not supported: m.C",
        refusal(codec, bytes("\u0080\u0004\u008c\u0001m\u008c\u0001C\u0093)}"
            + "\u008c\u0001kK\u0001s\u0092.")));
    assertInstanceOf(PyObject.class,
        assertDoesNotThrow(codec, bytes("\u0080\u0004\u008c\u0001m\u008c\u0001C\u0093)}\u0092.")));
  }

  private static Object assertDoesNotThrow(PickleCodec codec, byte[] pickle) {
    try {
      return codec.loads(pickle);
    } catch (CodecException e) {
      return fail(e);
    }
  }
}
