package dev.ferry.pickle;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Structural equality for decoded values: compares byte arrays by content, containers by items
 * and kind (tuple, list, dict, set, frozenset), PyObjects by their parts, and stops at cycles.
 */
final class Deep {
  private final Map<Object, Object> seen = new IdentityHashMap<>();

  private Deep() {}

  static void assertDeepEquals(Object expected, Object actual) {
    new Deep().compare(expected, actual, "$");
  }

  private void compare(Object expected, Object actual, String path) {
    if (expected == null || actual == null) {
      if (expected != actual) mismatch(expected, actual, path);
      return;
    }
    if (seen.get(expected) == actual) return;
    if (!sameKind(expected, actual)) {
      mismatch(expected, actual, path);
      return;
    }
    if (expected instanceof byte[] e) {
      if (!(actual instanceof byte[] a) || !Arrays.equals(e, a)) mismatch(expected, actual, path);
    } else if (expected instanceof PyTuple e) {
      if (!(actual instanceof PyTuple a)) {
        mismatch(expected, actual, path);
      } else {
        seen.put(expected, actual);
        compareLists(e.items(), a.items(), path);
      }
    } else if (expected instanceof List<?> e) {
      if (!(actual instanceof List<?> a) || actual instanceof PyTuple) {
        mismatch(expected, actual, path);
      } else {
        seen.put(expected, actual);
        compareLists(e, a, path);
      }
    } else if (expected instanceof Map<?, ?> e) {
      if (!(actual instanceof Map<?, ?> a) || e.size() != a.size()) {
        mismatch(expected, actual, path);
        return;
      }
      seen.put(expected, actual);
      // By key, not by order: Python 2 dicts have no order.
      for (Map.Entry<?, ?> entry : e.entrySet()) {
        if (!a.containsKey(entry.getKey())) mismatch(expected, actual, path);
        compare(entry.getValue(), a.get(entry.getKey()), path + "[" + entry.getKey() + "]");
      }
    } else if (expected instanceof Set<?> e) {
      if (!(actual instanceof Set<?> a) || !e.equals(a)
          || PickleCodec.isFrozenSet(e) != PickleCodec.isFrozenSet(a)) {
        mismatch(expected, actual, path);
      }
    } else if (expected instanceof PyObject e) {
      if (!(actual instanceof PyObject a) || !e.type().equals(a.type())
          || e.construction() != a.construction()) {
        mismatch(expected, actual, path);
        return;
      }
      seen.put(expected, actual);
      compare(e.args(), a.args(), path + ".args");
      compare(e.state(), a.state(), path + ".state");
    } else if (expected.getClass() != actual.getClass() || !Objects.equals(expected, actual)) {
      mismatch(expected, actual, path);
    }
  }

  /** The standard library containers must come back as themselves, not as list or dict. */
  private static boolean sameKind(Object expected, Object actual) {
    if (expected instanceof PyDefaultDict e) {
      return actual instanceof PyDefaultDict a && e.factory().equals(a.factory());
    }
    if (expected instanceof PyDeque e) {
      return actual instanceof PyDeque a && e.maxLength().equals(a.maxLength());
    }
    if (expected instanceof PyOrderedDict e) {
      return actual instanceof PyOrderedDict a
          && List.copyOf(e.keySet()).equals(List.copyOf(a.keySet()));
    }
    return !(expected instanceof PyCounter) || actual instanceof PyCounter;
  }

  private void compareLists(List<?> e, List<?> a, String path) {
    if (e.size() != a.size()) {
      mismatch(e.size(), a.size(), path + ".size");
      return;
    }
    for (int i = 0; i < e.size(); i++) compare(e.get(i), a.get(i), path + "[" + i + "]");
  }

  private static void mismatch(Object expected, Object actual, String path) {
    fail("at " + path + ": expected " + show(expected) + " but was " + show(actual));
  }

  private static String show(Object value) {
    if (value == null) return "null";
    String s = value instanceof byte[] b ? "byte[" + b.length + "]" : String.valueOf(value);
    if (s.length() > 120) s = s.substring(0, 120) + "...";
    return s + " (" + value.getClass().getSimpleName() + ")";
  }
}
