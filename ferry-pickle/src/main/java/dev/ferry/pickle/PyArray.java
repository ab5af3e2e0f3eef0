package dev.ferry.pickle;

import java.util.List;
import java.util.Objects;

/**
 * A Python {@code array.array}: its type code and its items, {@code Integer} or {@code Long} for
 * the integer codes ({@code b B h H i I l L q Q}), {@code Double} for {@code f} and {@code d},
 * one-character {@code String}s for {@code u} and {@code w}. The items are an unmodifiable copy.
 * Sizes are those of CPython on 64-bit Linux and macOS ({@code l} and {@code L} are 8 bytes).
 */
public record PyArray(String typecode, List<Object> items) {
  /** The type codes of CPython 3.13's {@code array} module. */
  public static final String TYPECODES = "bBuwhHiIlLqQfd";

  public PyArray {
    Objects.requireNonNull(typecode, "typecode");
    if (typecode.length() != 1 || TYPECODES.indexOf(typecode.charAt(0)) < 0) {
      throw new IllegalArgumentException("bad array typecode: " + typecode);
    }
    items = List.copyOf(items);
  }

  /** Python: {@code array.array(typecode, items)}. */
  public static PyArray of(String typecode, List<?> items) {
    return new PyArray(typecode, List.<Object>copyOf(items));
  }
}
