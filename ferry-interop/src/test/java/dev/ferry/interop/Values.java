package dev.ferry.interop;

import dev.ferry.pickle.PyTuple;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The payloads both sides of the matrix know in advance; each has its twin in driver.py. */
final class Values {
  private Values() {}

  /** Sizes of the "bytes" mode messages; driver.py's PATTERN_SIZES. */
  static final List<Integer> PATTERN_SIZES = List.of(0, 1, 5, 16383, 16384, 16385, 300000);

  /** n bytes whose value at i is (i + n) % 251; driver.py's pattern(n). */
  static byte[] pattern(int n) {
    byte[] bytes = new byte[n];
    for (int i = 0; i < n; i++) bytes[i] = (byte) ((i + (long) n) % 251);
    return bytes;
  }

  /** driver.py's VALUE as Ferry decodes it from Python 3 (and encodes it for every version). */
  static Map<String, Object> value() {
    Map<String, Object> inner = new LinkedHashMap<>();
    inner.put("inner", new byte[] {'x'});
    inner.put("empty", List.of());
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("text", "h\u00e9llo \u2713 \ud83d\ude00");
    value.put("count", 42);
    value.put("large", 1L << 40);
    value.put("big", BigInteger.TWO.pow(100));
    value.put("negative", BigInteger.TWO.pow(70).negate());
    value.put("ratio", 2.5);
    value.put("nothing", null);
    value.put("yes", true);
    value.put("raw", new byte[] {0, 1, (byte) 0xfe, (byte) 0xff});
    value.put("pair", PyTuple.of(1, "two", null));
    value.put("items", List.of(1, -0.5, List.of(true, false), inner, PyTuple.empty()));
    return value;
  }

  /**
   * {@link #value()} as Ferry decodes it from {@code version}: Python 2's {@code str} is its bytes
   * type, pickled as text, so Ferry reads it as a Latin-1 {@code String} (see TYPES.md).
   */
  static Object valueFrom(String version) {
    Object value = value();
    return version.startsWith("2.") ? bytesAsLatin1(value) : value;
  }

  private static Object bytesAsLatin1(Object value) {
    if (value instanceof byte[] bytes) return new String(bytes, StandardCharsets.ISO_8859_1);
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(bytesAsLatin1(k), bytesAsLatin1(v)));
      return out;
    }
    if (value instanceof List<?> list) return list.stream().map(Values::bytesAsLatin1).toList();
    if (value instanceof PyTuple tuple) {
      return new PyTuple(tuple.items().stream().map(Values::bytesAsLatin1).toList());
    }
    return value;
  }

  /**
   * A form of a decoded value that {@code equals} compares deeply: {@code byte[]} (compared by
   * identity in Java) becomes a hex record, every map a LinkedHashMap, every list an ArrayList.
   */
  static Object comparable(Object value) {
    if (value instanceof byte[] bytes) return new Hex(HexFormat.of().formatHex(bytes));
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(comparable(k), comparable(v)));
      return out;
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      for (Object item : list) out.add(comparable(item));
      return out;
    }
    if (value instanceof PyTuple tuple) {
      List<Object> items = new ArrayList<>();
      for (Object item : tuple.items()) items.add(comparable(item));
      return new PyTuple(items);
    }
    return value;
  }

  record Hex(String hex) {}

  /**
   * What {@code xmlrpc.client.dumps((XML_VALUE,), None, None, None, 1)} gives in CPython 3.13
   * (PROTOCOL §1.6): a bare {@code <params>} fragment, {@code <nil/>} for None.
   */
  static final String XML_FRAGMENT = """
      <params>
      <param>
      <value><array><data>
      <value><string>hello world</string></value>
      <value><nil/></value><value><boolean>1</boolean></value>
      <value><double>2.25</double></value>
      <value><int>42</int></value>
      <value><string>hall\u00e5 v\u00e4rlden</string></value>
      <value><struct>
      <member>
      <name>k</name>
      <value><array><data>
      <value><int>1</int></value>
      <value><string>\u043f</string></value>
      </data></array></value>
      </member>
      </struct></value>
      </data></array></value>
      </param>
      </params>
      """;
}
