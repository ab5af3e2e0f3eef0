package dev.ferry.pickle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code collections.Counter}: a {@link LinkedHashMap} from item to count that encodes
 * back as a {@code Counter}. Counts are usually {@code Integer}; nothing checks that they are.
 */
public final class PyCounter extends LinkedHashMap<Object, Object> {
  private static final long serialVersionUID = 1L;

  /** Python: {@code Counter()}. */
  public PyCounter() {}

  /** Python: {@code Counter(counts)}; copies {@code counts}. */
  public PyCounter(Map<?, ?> counts) {
    super(counts);
  }
}
