package dev.ferry.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Both directions against real CPython 2.7 to 3.13: decode what {@code pickle.dumps(value, p)}
 * writes for every protocol the version has, and have {@code pickle.loads} check what Java writes
 * for every protocol from 2 up to what the version reads. One interpreter process serves all the
 * cases of one version and direction.
 */
class CPythonInteropTest {
  private static final HexFormat HEX = HexFormat.of();

  @TestFactory
  Stream<DynamicNode> decodesWhatEachCPythonWrites() {
    return CPython.VERSIONS.stream().map(version -> DynamicContainer.dynamicContainer(
        "python " + version, Stream.of(0).flatMap(unused -> decodeTests(version))));
  }

  private static Stream<DynamicNode> decodeTests(String version) {
    CPython.Generated generated;
    try {
      generated = CPython.generate(version);
    } catch (Exception e) {
      return Stream.of(DynamicTest.dynamicTest("runs make_pickles.py gen", () -> rethrow(e)));
    }
    int major = generated.version().startsWith("2.") ? 2 : 3;
    PickleCodec codec = PickleCodec.standard();
    return generated.pickles().stream().map(golden -> DynamicTest.dynamicTest(
        golden.name() + " protocol " + golden.protocol() + " " + golden.writer(), () -> {
          assertTrue(Cases.has(golden.name()), "java has no case " + golden.name());
          Object decoded = codec.loads(HEX.parseHex(golden.hex()));
          Object expected = Cases.decoded(golden.name(), major);
          if (expected instanceof ZonedDateTime zoned && golden.protocol() < 4) {
            // CPython writes fold only at protocol 4 and later.
            expected = zoned.withEarlierOffsetAtOverlap();
          }
          checkDecoded(golden.name(), expected, decoded);
        }));
  }

  private static void rethrow(Exception e) throws Exception {
    throw e;
  }

  static void checkDecoded(String name, Object expected, Object decoded) {
    switch (name) {
      case "shared" -> {
        List<?> list = assertInstanceOf(List.class, decoded);
        assertSame(list.get(0), list.get(1));
        Deep.assertDeepEquals(expected, decoded);
      }
      case "recursive_list" -> {
        List<?> list = assertInstanceOf(List.class, decoded);
        assertEquals(1, list.size());
        assertSame(list, list.get(0));
      }
      case "recursive_dict" -> {
        Map<?, ?> map = assertInstanceOf(Map.class, decoded);
        assertSame(map, map.get("self"));
      }
      case "recursive_tuple" -> {
        PyTuple tuple = assertInstanceOf(PyTuple.class, decoded);
        List<?> inner = assertInstanceOf(List.class, tuple.get(0));
        assertSame(tuple, inner.get(0));
      }
      default -> Deep.assertDeepEquals(expected, decoded);
    }
  }

  /**
   * Cases that Java writes differently on purpose: datetime types as calls with int arguments
   * (readable by every version, where CPython passes a packed bytes state), UUID as
   * {@code UUID(hex)}, and the standard library types of issue 14 in the forms that every version
   * reads (Fraction as a string, array as a list, deque with its items as arguments or not).
   */
  private static final java.util.Set<String> WRITTEN_DIFFERENTLY = java.util.Set.of(
      "date", "date_min", "time", "time_aware", "datetime", "datetime_max", "datetime_aware",
      "datetime_utc", "datetime_neg", "uuid", "ordered_dict", "defaultdict_list",
      "defaultdict_int", "defaultdict_none", "counter", "deque", "deque_maxlen", "fraction",
      "fraction_whole", "array_i", "array_d", "array_B", "array_empty", "array_Q", "range",
      "slice", "ellipsis", "not_implemented", "datetime_zoneinfo", "datetime_zoneinfo_fold");

  @TestFactory
  Stream<DynamicNode> writesTheSameBytesAsCPython313() throws Exception {
    CPython.Generated generated = CPython.generate("3.13.0");
    return generated.pickles().stream()
        .filter(golden -> golden.protocol() >= 2 && golden.writer().equals("c"))
        .filter(golden -> !Cases.DECODE_ONLY.contains(golden.name()))
        .filter(golden -> !WRITTEN_DIFFERENTLY.contains(golden.name()))
        .map(golden -> DynamicTest.dynamicTest(golden.name() + " protocol " + golden.protocol(),
            () -> {
              Object value = Cases.value(golden.name());
              String java = HEX.formatHex(
                  PickleCodec.builder().protocol(golden.protocol()).build().dumps(value));
              assertEquals(golden.hex(), java);
            }));
  }

  @TestFactory
  Stream<DynamicNode> failsCleanlyOnEveryTruncationOfCPythonPickles() {
    return Stream.of("2.7.18", "3.13.0").map(version -> DynamicTest.dynamicTest(
        "python " + version, () -> {
          int checked = 0;
          for (CPython.Golden golden : CPython.generate(version).pickles()) {
            byte[] pickle = HEX.parseHex(golden.hex());
            if (pickle.length > 3000) continue;
            for (int n = 0; n < pickle.length; n++) {
              byte[] cut = java.util.Arrays.copyOf(pickle, n);
              dev.ferry.codec.CodecException e = org.junit.jupiter.api.Assertions.assertThrows(
                  dev.ferry.codec.CodecException.class, () -> PickleCodec.standard().loads(cut),
                  () -> golden.name() + " protocol " + golden.protocol() + " cut at " + cut.length);
              org.junit.jupiter.api.Assertions.assertNull(e.getCause(), e::toString);
              checked++;
            }
          }
          assertTrue(checked > 5_000, "checked " + checked);
        }));
  }

  @TestFactory
  Stream<DynamicNode> cpythonLoadsWhatJavaWrites() {
    return CPython.VERSIONS.stream().map(version -> DynamicContainer.dynamicContainer(
        "python " + version, Stream.of(0).flatMap(unused -> encodeTests(version))));
  }

  private static Stream<DynamicNode> encodeTests(String version) {
    int readable = version.startsWith("2.") ? 2 : version.matches("3\\.[67]\\..*") ? 4 : 5;
    List<String> lines = new ArrayList<>();
    List<String> encodeErrors = new ArrayList<>();
    for (int protocol = 2; protocol <= readable; protocol++) {
      PickleCodec codec = PickleCodec.builder().protocol(protocol).build();
      for (String name : Cases.names()) {
        if (Cases.DECODE_ONLY.contains(name)) continue;
        try {
          lines.add(name + "\t" + protocol + "\t" + HEX.formatHex(codec.dumps(Cases.value(name))));
        } catch (Exception e) {
          encodeErrors.add(name + " protocol " + protocol + ": " + e);
        }
      }
    }
    List<String[]> answers;
    try {
      answers = CPython.check(version, lines);
    } catch (Exception e) {
      return Stream.of(DynamicTest.dynamicTest("runs make_pickles.py check", () -> rethrow(e)));
    }
    Stream<DynamicNode> encoded = Stream.of(DynamicTest.dynamicTest("java encodes every case",
        () -> assertEquals(List.of(), encodeErrors)));
    Stream<DynamicNode> checked = answers.stream()
        .filter(answer -> !answer[0].equals("SKIP"))
        .map(answer -> DynamicTest.dynamicTest(answer[1] + " protocol " + answer[2], () -> {
          if (!answer[0].equals("OK")) fail(String.join(" ", answer));
        }));
    Stream<DynamicNode> complete = Stream.of(DynamicTest.dynamicTest("python answers every line",
        () -> assertEquals(lines.size(), answers.size())));
    return Stream.of(encoded, checked, complete).flatMap(s -> s);
  }
}
