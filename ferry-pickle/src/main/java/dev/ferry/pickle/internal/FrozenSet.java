package dev.ferry.pickle.internal;

import java.util.AbstractSet;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A decoded Python {@code frozenset}: an unmodifiable set that the pickler writes back as a
 * {@code frozenset}, so it stays hashable on the Python side.
 */
public final class FrozenSet extends AbstractSet<Object> {
  private final Set<Object> items;

  FrozenSet(Collection<?> items) {
    this.items = new LinkedHashSet<>(items);
  }

  /** A frozen copy of {@code items}, in their iteration order. */
  public static FrozenSet of(Collection<?> items) {
    return new FrozenSet(items);
  }

  @Override
  public Iterator<Object> iterator() {
    Iterator<Object> it = items.iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Object next() {
        return it.next();
      }
    };
  }

  @Override
  public int size() {
    return items.size();
  }

  @Override
  public boolean contains(Object o) {
    return items.contains(o);
  }
}
