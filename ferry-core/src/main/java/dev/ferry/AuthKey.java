package dev.ferry;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The shared secret of the HMAC handshake. Both ends must hold the same bytes. The empty key is
 * allowed and authenticates with an empty HMAC key, as CPython 3.13 does (earlier Python listeners
 * treat {@code b''} as "no authentication", so give those peers no key at all instead).
 *
 * <p>Python: the {@code authkey} bytes of {@code Listener} and {@code Client}.
 */
public final class AuthKey {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] bytes;

  private AuthKey(byte[] bytes) {
    this.bytes = bytes;
  }

  /** A key holding a copy of {@code bytes}. */
  public static AuthKey of(byte[] bytes) {
    return new AuthKey(Objects.requireNonNull(bytes, "bytes").clone());
  }

  /** A key from hexadecimal text, like {@code "00ff10"}. */
  public static AuthKey fromHex(String hex) {
    Objects.requireNonNull(hex, "hex");
    try {
      return new AuthKey(HexFormat.of().parseHex(hex));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("authkey is not hex: " + hex);
    }
  }

  /** A fresh key of 32 random bytes, as {@code os.urandom(32)} gives Python processes. */
  public static AuthKey random() {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return new AuthKey(bytes);
  }

  /** A copy of the key's bytes. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** The key as lowercase hexadecimal, for passing to a peer you start yourself. */
  public String toHex() {
    return HexFormat.of().formatHex(bytes);
  }

  /** The key's length in bytes. */
  public int length() {
    return bytes.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuthKey other && MessageDigest.isEqual(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** Never prints the secret. */
  @Override
  public String toString() {
    return "AuthKey[" + bytes.length + " bytes]";
  }
}
