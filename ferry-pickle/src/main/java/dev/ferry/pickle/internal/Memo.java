package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The unpickler's memo. Picklers number entries densely from 0, so an array holds them at a few
 * bytes each; an index far beyond the number of entries goes to a map instead, so that a large
 * index (up to 2^32 - 1 in {@code LONG_BINPUT}) costs one entry, not a huge array.
 */
final class Memo {
  private static final Object ABSENT = new Object();

  private Object[] dense = new Object[0];
  private int size;
  private final Map<Long, Object> sparse = new HashMap<>();

  /** Python: {@code len(memo)}, the index that {@code MEMOIZE} uses next. */
  long size() {
    return size;
  }

  void put(long index, Object value) {
    if (index < dense.length) {
      if (dense[(int) index] == ABSENT) size++;
      dense[(int) index] = value;
    } else if (index <= 2L * size + 1024) {
      // The array stays within a few times the number of entries, whatever the indices.
      int old = dense.length;
      long grown = Math.min(old + (old >> 1) + 16, 4L * size + 4096);
      dense = Arrays.copyOf(dense, (int) Math.max(index + 1, grown));
      Arrays.fill(dense, old, dense.length, ABSENT);
      dense[(int) index] = value;
      size++;
    } else {
      if (!sparse.containsKey(index)) size++;
      sparse.put(index, value);
    }
  }

  Object get(long index) throws CodecException {
    Object value = index < dense.length ? dense[(int) index] : sparse.getOrDefault(index, ABSENT);
    if (value == ABSENT) throw new CodecException("memo key not found: " + index);
    return value;
  }
}
