package dev.ferry.pickle.internal;

import java.math.BigInteger;

/** Python {@code int} in Java: the smallest of Integer, Long and BigInteger that holds it. */
final class Numbers {
  private Numbers() {}

  static Object normalize(BigInteger n) {
    if (n.bitLength() < 32) return n.intValue();
    if (n.bitLength() < 64) return n.longValue();
    return n;
  }

  static Object normalize(long n) {
    return n == (int) n ? (Object) (int) n : (Object) n;
  }

  /** Two's complement, little-endian, as {@code LONG1} and {@code LONG4} carry it. */
  static Object fromLittleEndian(byte[] bytes) {
    if (bytes.length == 0) return 0;
    byte[] big = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) big[i] = bytes[bytes.length - 1 - i];
    return normalize(new BigInteger(big));
  }

  /** The shortest two's complement little-endian form, as CPython's {@code encode_long}. */
  static byte[] toLittleEndian(BigInteger n) {
    if (n.signum() == 0) return new byte[0];
    byte[] big = n.toByteArray();
    byte[] little = new byte[big.length];
    for (int i = 0; i < big.length; i++) little[i] = big[big.length - 1 - i];
    return little;
  }

  /** A Java integral value as a BigInteger, or null if it is not an integer type. */
  static BigInteger toBigInteger(Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short
        || value instanceof Byte) {
      return BigInteger.valueOf(((Number) value).longValue());
    }
    if (value instanceof BigInteger big) return big;
    return null;
  }

  /** An int argument of a Python call, for handlers. */
  static long toLong(Object value, String what) throws dev.ferry.codec.CodecException {
    if (value instanceof Integer || value instanceof Long) return ((Number) value).longValue();
    if (value instanceof Boolean b) return b ? 1 : 0;
    throw new dev.ferry.codec.CodecException(
        what + " must be an int, not " + Values.typeName(value));
  }
}
