package dev.ferry.internal.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code hashlib} digests a handshake may name that the JDK provides, each with an HMAC
 * written out from RFC 2104 over {@link MessageDigest}. Five of them are the ones CPython 3.12+
 * accepts in an answer ({@code _ALLOWED_DIGESTS}, {@link #isCpythonAllowed()}); Ferry answers a
 * challenge naming any of them, since CPython's {@code deliver_challenge(digest_name=...)} may
 * name any digest {@code hashlib} has.
 *
 * <p>The HMAC is hand-written rather than taken from {@code javax.crypto.Mac} because
 * {@code SecretKeySpec} refuses an empty key, and CPython 3.13 authenticates with {@code b''}. An
 * empty key is simply a block of zeros in RFC 2104, so nothing special is needed here.
 */
enum HmacDigest {
  MD5("md5", "MD5", 64, true),
  SHA1("sha1", "SHA-1", 64, false),
  SHA224("sha224", "SHA-224", 64, false),
  SHA256("sha256", "SHA-256", 64, true),
  SHA384("sha384", "SHA-384", 128, true),
  SHA512("sha512", "SHA-512", 128, false),
  SHA512_224("sha512_224", "SHA-512/224", 128, false),
  SHA512_256("sha512_256", "SHA-512/256", 128, false),
  SHA3_224("sha3_224", "SHA3-224", 144, false),
  SHA3_256("sha3_256", "SHA3-256", 136, true),
  SHA3_384("sha3_384", "SHA3-384", 104, true),
  SHA3_512("sha3_512", "SHA3-512", 72, false);

  /** The longest name here or in {@link #NOT_IN_JDK}: bounds the search for a closing brace. */
  static final int MAX_NAME_LENGTH = 10;

  /**
   * Names {@code hashlib} knows (guaranteed, or common in OpenSSL builds) that the JDK has no
   * digest for; a challenge naming one fails with a message that says so.
   */
  private static final Set<String> NOT_IN_JDK = Set.of("blake2b", "blake2s", "shake_128",
      "shake_256", "sm3", "ripemd160", "md5-sha1", "md4", "whirlpool", "mdc2");

  private static final byte INNER_PAD = 0x36;
  private static final byte OUTER_PAD = 0x5c;

  private final String pythonName;
  private final String jdkName;
  private final int blockSize;
  private final boolean cpythonAllowed;
  private final byte[] prefix;

  HmacDigest(String pythonName, String jdkName, int blockSize, boolean cpythonAllowed) {
    this.pythonName = pythonName;
    this.jdkName = jdkName;
    this.blockSize = blockSize;
    this.cpythonAllowed = cpythonAllowed;
    this.prefix = ("{" + pythonName + "}").getBytes(StandardCharsets.US_ASCII);
  }

  /** The digest whose Python name is exactly {@code name}, if this table has it. */
  static Optional<HmacDigest> forPythonName(String name) {
    for (HmacDigest digest : values()) {
      if (digest.pythonName.equals(name)) {
        return Optional.of(digest);
      }
    }
    return Optional.empty();
  }

  /**
   * The digest {@code name} names, checked for use: {@code md5}, {@code sha256}, ... as
   * {@code hashlib} spells them.
   *
   * @throws IllegalArgumentException naming {@code name} if it is no digest this runtime has
   */
  static HmacDigest require(String name) {
    Optional<HmacDigest> digest = forPythonName(name);
    if (digest.isPresent() && digest.get().isAvailable()) return digest.get();
    if (digest.isPresent() || NOT_IN_JDK.contains(name)) {
      throw new IllegalArgumentException("digest not available in this java runtime: " + name);
    }
    throw new IllegalArgumentException("unknown digest: " + name);
  }

  /** True for a name {@code hashlib} has but this runtime lacks, such as {@code blake2b}. */
  static boolean isKnownButMissing(String name) {
    Optional<HmacDigest> digest = forPythonName(name);
    return digest.isPresent() ? !digest.get().isAvailable() : NOT_IN_JDK.contains(name);
  }

  /** One of the five that CPython 3.12+ accepts in an answer to its own challenge. */
  boolean isCpythonAllowed() {
    return cpythonAllowed;
  }

  /** Whether this runtime has the digest (a FIPS-restricted one may lack MD5, say). */
  boolean isAvailable() {
    try {
      MessageDigest.getInstance(jdkName);
      return true;
    } catch (NoSuchAlgorithmException e) {
      return false;
    }
  }

  /** The MAC's length in bytes: 16 for MD5, 32 for SHA-256. */
  int macLength() {
    return newMessageDigest().getDigestLength();
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
      // Every JDK 17 ships all of them in the SUN provider; callers check isAvailable first.
      throw new IllegalStateException("digest unavailable: " + jdkName, e);
    }
  }
}
