package dev.ferry.pickle;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A Python {@code bytearray}. Java's {@code byte[]} stands for Python {@code bytes}; this type
 * keeps the two apart so that a value makes the round trip with its Python type intact. Copies on
 * the way in and out; equal to another {@code PyBytearray} with the same bytes.
 */
public final class PyBytearray {
  private final byte[] bytes;

  private PyBytearray(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Python: {@code bytearray(bytes)}. Copies {@code bytes}. */
  public static PyBytearray of(byte[] bytes) {
    return new PyBytearray(bytes.clone());
  }

  /** A copy of the contents. */
  public byte[] toByteArray() {
    return bytes.clone();
  }

  /** Python: {@code len(b)}. */
  public int length() {
    return bytes.length;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PyBytearray that && Arrays.equals(bytes, that.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "bytearray(" + HexFormat.of().formatHex(bytes) + ")";
  }
}
