package dev.ferry.internal.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

final class HmacDigestTest {
  private static final byte[] ABC = "abc".getBytes(StandardCharsets.US_ASCII);

  /**
   * Key lengths around every block size (64, 72, 104, 128, 136, 144): longer keys are hashed
   * first.
   */
  @ParameterizedTest
  @EnumSource(HmacDigest.class)
  void matchesJdkHmacForEveryKeyLength(HmacDigest digest) {
    for (int keyLength : new int[] {1, 16, 63, 64, 65, 71, 72, 73, 103, 104, 105, 128, 129, 136,
        137, 143, 144, 145, 300}) {
      byte[] key = new byte[keyLength];
      Arrays.fill(key, (byte) (keyLength * 7));
      assertArrayEquals(
          Hmacs.jdkMac(digest.pythonName(), key, ABC),
          digest.mac(key, ABC),
          digest + " with a key of " + keyLength + " bytes");
    }
  }

  @Test
  void macsWithEmptyKeyLikeCpython() {
    // hmac.new(b'', b'abc', name).hexdigest() on CPython 3.13.
    assertEquals("dd2701993d29fdd0b032c233cec63403", hex(HmacDigest.MD5.mac(new byte[0], ABC)));
    assertEquals(
        "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351",
        hex(HmacDigest.SHA256.mac(new byte[0], ABC)));
    assertEquals(
        "175064a7663c17b5fa7abcd6fb9d0969b7be431dc4d310d2196d06b23cd8a9db"
            + "5b13013038437b636de8dfa38edc3452",
        hex(HmacDigest.SHA3_384.mac(new byte[0], ABC)));
  }

  @Test
  void matchesRfc2202Md5Vector() {
    byte[] key = new byte[16];
    Arrays.fill(key, (byte) 0x0b);
    byte[] data = "Hi There".getBytes(StandardCharsets.US_ASCII);
    assertEquals("9294727a3638bb1c13f48ef8158bfc9d", hex(HmacDigest.MD5.mac(key, data)));
  }

  @Test
  void knowsHashlibNamesAndWhichFiveCpythonAllows() {
    assertEquals(Optional.of(HmacDigest.SHA3_256), HmacDigest.forPythonName("sha3_256"));
    assertEquals(Optional.of(HmacDigest.SHA512_224), HmacDigest.forPythonName("sha512_224"));
    assertEquals(Optional.empty(), HmacDigest.forPythonName("MD5"));
    assertEquals(Optional.empty(), HmacDigest.forPythonName(""));
    assertEquals(Set.of(HmacDigest.MD5, HmacDigest.SHA256, HmacDigest.SHA384,
        HmacDigest.SHA3_256, HmacDigest.SHA3_384),
        Arrays.stream(HmacDigest.values()).filter(HmacDigest::isCpythonAllowed)
            .collect(Collectors.toSet()));
  }

  @Test
  void requiresADigestThisRuntimeHasNamingAnyOther() {
    for (HmacDigest digest : HmacDigest.values()) {
      assertEquals(digest, HmacDigest.require(digest.pythonName()));
    }
    assertEquals("digest not available in this java runtime: blake2b",
        assertThrows(IllegalArgumentException.class, () -> HmacDigest.require("blake2b"))
            .getMessage());
    assertEquals("unknown digest: sha4",
        assertThrows(IllegalArgumentException.class, () -> HmacDigest.require("sha4"))
            .getMessage());
    assertTrue(HmacDigest.isKnownButMissing("shake_256"));
    assertFalse(HmacDigest.isKnownButMissing("sha1"));
  }

  @Test
  void macLengthsAreTheDigestLengths() {
    assertEquals(16, HmacDigest.MD5.macLength());
    assertEquals(32, HmacDigest.SHA256.macLength());
    assertEquals(28, HmacDigest.SHA512_224.macLength());
    assertEquals(64, HmacDigest.SHA3_512.macLength());
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }
}
