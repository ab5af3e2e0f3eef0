package dev.ferry.internal.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The digests CPython 3.12+ allows in the handshake ({@code _ALLOWED_DIGESTS}), each with an HMAC
 * written out from RFC 2104 over {@link MessageDigest}.
 *
 * <p>The HMAC is hand-written rather than taken from {@code javax.crypto.Mac} because
 * {@code SecretKeySpec} refuses an empty key, and CPython 3.13 authenticates with {@code b''}. An
 * empty key is simply a block of zeros in RFC 2104, so nothing special is needed here.
 */
enum HmacDigest {
  MD5("md5", "MD5", 64),
  SHA256("sha256", "SHA-256", 64),
  SHA384("sha384", "SHA-384", 128),
  SHA3_256("sha3_256", "SHA3-256", 136),
  SHA3_384("sha3_384", "SHA3-384", 104);

  private static final byte INNER_PAD = 0x36;
  private static final byte OUTER_PAD = 0x5c;

  private final String pythonName;
  private final String jdkName;
  private final int blockSize;
  private final byte[] prefix;

  HmacDigest(String pythonName, String jdkName, int blockSize) {
    this.pythonName = pythonName;
    this.jdkName = jdkName;
    this.blockSize = blockSize;
    this.prefix = ("{" + pythonName + "}").getBytes(StandardCharsets.US_ASCII);
  }

  /** The digest whose Python name is exactly {@code name}, if it is one of the allowed ones. */
  static Optional<HmacDigest> forPythonName(String name) {
    for (HmacDigest digest : values()) {
      if (digest.pythonName.equals(name)) {
        return Optional.of(digest);
      }
    }
    return Optional.empty();
  }

  /** The name as {@code hashlib} spells it, and as it appears between the braces on the wire. */
  String pythonName() {
    return pythonName;
  }

  /** {@code {name}}, the tag that starts a modern challenge or response. */
  byte[] prefix() {
    return prefix.clone();
  }

  /** HMAC(key, message) as in RFC 2104; {@code key} may be empty. */
  byte[] mac(byte[] key, byte[] message) {
    MessageDigest digest = newMessageDigest();
    byte[] block = Arrays.copyOf(key.length > blockSize ? digest.digest(key) : key, blockSize);
    try {
      digest.update(xor(block, INNER_PAD));
      digest.update(message);
      byte[] inner = digest.digest();
      digest.update(xor(block, OUTER_PAD));
      digest.update(inner);
      return digest.digest();
    } finally {
      // The padded key is as secret as the key; don't leave it for the heap dump.
      Arrays.fill(block, (byte) 0);
    }
  }

  private static byte[] xor(byte[] block, byte pad) {
    byte[] padded = new byte[block.length];
    for (int i = 0; i < block.length; i++) {
      padded[i] = (byte) (block[i] ^ pad);
    }
    return padded;
  }

  private MessageDigest newMessageDigest() {
    try {
      return MessageDigest.getInstance(jdkName);
    } catch (NoSuchAlgorithmException e) {
      // Every JDK 17 ships all five in the SUN provider; a runtime without them is broken.
      throw new IllegalStateException("digest unavailable: " + jdkName, e);
    }
  }
}
