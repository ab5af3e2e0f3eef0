package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

final class GoldenVectorsTest {
  @Test
  void loadsFramesAsCpythonWroteThem() {
    assertArrayEquals(hex("000000026869"), GoldenVectors.get("frame.py313.send_bytes.hi"));
    assertArrayEquals(hex("00000000"), GoldenVectors.get("frame.py313.send_bytes.empty"));
    assertArrayEquals(hex("00004001"), GoldenVectors.get("frame.py313.send_bytes.16385.header"));
    assertArrayEquals(
        hex("80024b012e"), GoldenVectors.payload(GoldenVectors.get("frame.py27.send.int1")));
  }

  @Test
  void readsEmptyHexAsZeroBytes() {
    assertEquals(0, GoldenVectors.get("hs.s313-c313-emptykey.server.key").length);
  }

  @Test
  void keepsFileOrderAndHandsOutCopies() {
    assertEquals("frame.py313.send_bytes.hi", GoldenVectors.load().keySet().iterator().next());
    GoldenVectors.get("frame.py313.send_bytes.hi")[0] = 9;
    assertEquals(0, GoldenVectors.get("frame.py313.send_bytes.hi")[0]);
  }

  @Test
  void refusesUnknownName() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GoldenVectors.get("frame.nope"));
    assertEquals("no golden vector: frame.nope", e.getMessage());
  }

  @Test
  void refusesFrameWhoseHeaderDisagreesWithItsLength() {
    byte[] frame = hex("0000000368");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GoldenVectors.payload(frame));
    assertTrue(e.getMessage().startsWith("header declares 3 bytes"), e.getMessage());
  }

  private static byte[] hex(String hex) {
    return HexFormat.of().parseHex(hex);
  }
}
