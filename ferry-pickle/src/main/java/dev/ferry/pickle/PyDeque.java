package dev.ferry.pickle;

import java.util.ArrayList;
import java.util.Collection;
import java.util.OptionalInt;

/**
 * A Python {@code collections.deque}: an {@link ArrayList} that encodes back as a {@code deque},
 * with its {@code maxlen} if it has one. Java does not enforce the bound; Python keeps the last
 * {@code maxlen} items when it loads a longer one.
 */
public final class PyDeque extends ArrayList<Object> {
  private static final long serialVersionUID = 1L;

  private final int maxLength;

  /** Python: {@code deque()}. */
  public PyDeque() {
    this.maxLength = -1;
  }

  /** Python: {@code deque(maxlen=maxLength)}. */
  public PyDeque(int maxLength) {
    if (maxLength < 0) throw new IllegalArgumentException("maxLength < 0: " + maxLength);
    this.maxLength = maxLength;
  }

  /** Python: {@code deque(items)}; copies {@code items}. */
  public PyDeque(Collection<?> items) {
    super(items);
    this.maxLength = -1;
  }

  /** Python: {@code d.maxlen}; empty for {@code None}. */
  public OptionalInt maxLength() {
    return maxLength < 0 ? OptionalInt.empty() : OptionalInt.of(maxLength);
  }
}
