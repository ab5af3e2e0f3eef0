package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyTuple;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Refuses dict keys and set items that Python could not hash either (a list, a dict, a set), and
 * tuples nested so deeply that Java's recursive {@code hashCode} would overflow the stack.
 */
final class Hashing {
  private Hashing() {}

  static void check(Object key, int maxDepth) throws CodecException {
    check(key, maxDepth, 0);
  }

  private static void check(Object key, int maxDepth, int depth) throws CodecException {
    if (depth > maxDepth) throw new CodecException("key nested deeper than " + maxDepth);
    if (key instanceof PyTuple tuple) {
      for (Object item : tuple.items()) check(item, maxDepth, depth + 1);
    } else if (key instanceof FrozenSet set) {
      for (Object item : set) check(item, maxDepth, depth + 1);
    } else if (key instanceof List || key instanceof Map || key instanceof Set
        || key instanceof PyBytearray || key instanceof NdArray) {
      throw new CodecException("unhashable type: " + Values.typeName(key));
    }
  }
}
