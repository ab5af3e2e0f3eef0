package dev.ferry.pickle;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Python {@code collections.OrderedDict}: a {@link LinkedHashMap} that encodes back as an
 * {@code OrderedDict} rather than a {@code dict}. Equal to any map with the same entries, as
 * Python's {@code OrderedDict == dict} compares items only.
 */
public final class PyOrderedDict extends LinkedHashMap<Object, Object> {
  private static final long serialVersionUID = 1L;

  /** Python: {@code OrderedDict()}. */
  public PyOrderedDict() {}

  /** Python: {@code OrderedDict(items)}; copies {@code items} in their iteration order. */
  public PyOrderedDict(Map<?, ?> items) {
    super(items);
  }
}
