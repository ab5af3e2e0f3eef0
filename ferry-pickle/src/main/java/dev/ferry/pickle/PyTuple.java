package dev.ferry.pickle;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A Python {@code tuple}: an immutable list of items, which may include {@code null} (Python:
 * {@code None}). Equal to another tuple with equal items in the same order, so a tuple works as a
 * key in a {@code Map} the way it does in a Python {@code dict}.
 */
public record PyTuple(List<Object> items) {
  private static final PyTuple EMPTY = new PyTuple(List.of());

  /** Copies {@code items}; later changes to the argument don't show through. */
  public PyTuple {
    items = Collections.unmodifiableList(new ArrayList<>(items));
  }

  /** Python: {@code (a, b, ...)}. */
  public static PyTuple of(Object... items) {
    return items.length == 0 ? EMPTY : new PyTuple(Arrays.asList(items));
  }

  /** Python: {@code ()}. */
  public static PyTuple empty() {
    return EMPTY;
  }

  /** Python: {@code len(t)}. */
  public int size() {
    return items.size();
  }

  /** Python: {@code t[index]}. */
  public Object get(int index) {
    return items.get(index);
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("(");
    for (int i = 0; i < items.size(); i++) {
      if (i > 0) out.append(", ");
      Object item = items.get(i);
      out.append(item == this ? "(...)" : String.valueOf(item));
    }
    return out.append(items.size() == 1 ? ",)" : ")").toString();
  }
}
