package dev.ferry.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.Address;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.LeakCheck;
import dev.ferry.Listener;
import dev.ferry.PythonVersion;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.PyArray;
import dev.ferry.pickle.PyConstant;
import dev.ferry.pickle.PyCounter;
import dev.ferry.pickle.PyDefaultDict;
import dev.ferry.pickle.PyDeque;
import dev.ferry.pickle.PyFraction;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyOrderedDict;
import dev.ferry.pickle.PyRange;
import dev.ferry.pickle.PySlice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The standard library's data types (issue 14) through a real connection with every CPython:
 * Python sends driver.py's STDLIB_VALUE with {@code send()}, Ferry decodes it to the Java types
 * that keep them apart and sends it back, and Python checks every item's type and details.
 */
@ExtendWith(LeakCheck.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StdlibTypesMatrixTest {
  private Peers peers;
  private Path dir;

  @BeforeAll
  void startPeers() throws IOException {
    dir = Files.createTempDirectory("ferry-stdlib");
    peers = Peers.start(Peers.ALL);
  }

  @AfterEach
  void readyPeers() throws IOException {
    peers.reset();
  }

  @AfterAll
  void stopPeers() throws IOException {
    if (peers != null) peers.close();
    try (Stream<Path> left = Files.list(dir)) {
      for (Path p : left.toList()) Files.deleteIfExists(p);
    }
    Files.deleteIfExists(dir);
  }

  static Stream<String> versions() {
    return Peers.ALL.stream();
  }

  @ParameterizedTest(name = "python {0}")
  @MethodSource("versions")
  void stdlibDataTypesMakeTheRoundTripWithEveryPython(String version) throws IOException {
    PythonPeer python = peers.get(version);
    Address address = new Address.Unix(dir.resolve("s" + version));
    ConnectionOptions options = ConnectionOptions.builder().handshakeTimeout(PythonPeer.STEP)
        .peerPython(PythonVersion.parse(version)).build();
    List<Object> expected = expected(version);
    try (Listener listener = Listener.bind(address, options)) {
      python.connect(listener.address(), null, "stdlib");
      try (Connection c = listener.accept(PythonPeer.STEP)) {
        PickleCodec codec = PickleCodec.builder().peer(version).build();
        List<?> got = (List<?>) c.receive(codec);
        assertEquals(classes(expected), classes(got));
        assertEquals(expected, got);
        c.send(got, codec);
      }
    }
    assertEquals("ok stdlib " + expected.size(), python.result());
  }

  /** driver.py's stdlib_value() as Ferry decodes it from {@code version}. */
  private static List<Object> expected(String version) {
    List<Object> value = new ArrayList<>();
    value.add(new PyOrderedDict(orderedMap("b", 1, "a", 2)));
    PyDefaultDict lists = new PyDefaultDict(new PyGlobal("builtins", "list"));
    lists.put("a", List.of(1));
    value.add(lists);
    value.add(new PyDefaultDict(new PyGlobal("builtins", "int")));
    value.add(new PyCounter(Map.of("x", 2)));
    PyDeque deque = new PyDeque(5);
    deque.addAll(List.of(1, 2));
    value.add(deque);
    value.add(PyFraction.of(3, 4));
    value.add(PyArray.of("i", List.of(1, -2)));
    value.add(PyArray.of("d", List.of(0.5)));
    value.add(new PySlice(1, null, 2));
    value.add(new PyRange(1, 11, 2));
    if (!version.startsWith("2.")) {
      value.add(PyConstant.ELLIPSIS);
      value.add(PyConstant.NOT_IMPLEMENTED);
    }
    int minor = version.startsWith("3.") ? Integer.parseInt(version.substring(2)) : 0;
    if (minor >= 9) {
      value.add(ZonedDateTime.of(2024, 10, 27, 2, 30, 0, 0, ZoneId.of("Europe/Paris"))
          .withLaterOffsetAtOverlap());
    }
    return value;
  }

  private static Map<Object, Object> orderedMap(Object... keysAndValues) {
    Map<Object, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  private static List<String> classes(List<?> values) {
    return values.stream().map(v -> v.getClass().getSimpleName()).toList();
  }
}
