package dev.ferry.internal.auth;

import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Reference HMACs from the JDK's {@code javax.crypto.Mac}, independent of {@link HmacDigest}, for
 * test peers that play CPython's side. Non-empty keys only: {@code SecretKeySpec} refuses empty
 * ones.
 */
final class Hmacs {
  private Hmacs() {}

  /** HMAC with the digest CPython calls {@code pythonName} ({@code md5}, {@code sha3_256}, ...). */
  static byte[] jdkMac(String pythonName, byte[] key, byte[] message) {
    String algorithm =
        switch (pythonName) {
          case "md5" -> "HmacMD5";
          case "sha1" -> "HmacSHA1";
          case "sha224" -> "HmacSHA224";
          case "sha256" -> "HmacSHA256";
          case "sha384" -> "HmacSHA384";
          case "sha512" -> "HmacSHA512";
          case "sha512_224" -> "HmacSHA512/224";
          case "sha512_256" -> "HmacSHA512/256";
          case "sha3_224" -> "HmacSHA3-224";
          case "sha3_256" -> "HmacSHA3-256";
          case "sha3_384" -> "HmacSHA3-384";
          case "sha3_512" -> "HmacSHA3-512";
          default -> throw new IllegalArgumentException("no such digest: " + pythonName);
        };
    try {
      Mac mac = Mac.getInstance(algorithm);
      mac.init(new SecretKeySpec(key, algorithm));
      return mac.doFinal(message);
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }
}
