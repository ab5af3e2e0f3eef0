package dev.ferry.pickle;

/**
 * A Python {@code range} (Python 2: {@code xrange}). Only the bounds travel, never the items.
 */
public record PyRange(long start, long stop, long step) {
  public PyRange {
    if (step == 0) throw new IllegalArgumentException("range step is 0");
  }

  /** Python: {@code range(stop)}. */
  public static PyRange of(long stop) {
    return new PyRange(0, stop, 1);
  }

  @Override
  public String toString() {
    return "range(" + start + ", " + stop + (step == 1 ? "" : ", " + step) + ")";
  }
}
