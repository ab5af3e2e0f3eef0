package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyTuple;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Refuses dict keys and set items that Python could not hash either (a list, a dict, a set), and
 * tuples nested so deeply that Java's recursive {@code hashCode} would overflow the stack. Returns
 * the work that hashing the key takes, because Java caches no tuple or BigInteger hash: a pickle
 * that adds one large memoized tuple to a set a million times must pay for it.
 */
final class Hashing {
  private Hashing() {}

  /** Checks {@code key} and returns the cost of hashing it, in visited items. */
  static long check(Object key, int maxDepth) throws CodecException {
    return check(key, maxDepth, 0);
  }

  private static long check(Object key, int maxDepth, int depth) throws CodecException {
    if (depth > maxDepth) throw new CodecException("key nested deeper than " + maxDepth);
    long cost = 1;
    if (key instanceof PyTuple tuple) {
      for (Object item : tuple.items()) cost += check(item, maxDepth, depth + 1);
    } else if (key instanceof FrozenSet set) {
      for (Object item : set) cost += check(item, maxDepth, depth + 1);
    } else if (key instanceof BigInteger n) {
      cost += n.bitLength() >> 6;
    } else if (key instanceof List || key instanceof Map || key instanceof Set
        || key instanceof PyBytearray || key instanceof NdArray) {
      throw new CodecException("unhashable type: " + Values.typeName(key));
    }
    return cost;
  }
}
