package dev.ferry;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The golden vectors that {@code tools/golden/make_vectors.py} recorded from real CPython, read
 * from the test resource {@code golden/vectors.txt}. The file documents its names at the top:
 * {@code frame.*} vectors are complete frames (header included) as an interpreter wrote them,
 * {@code hs.*} vectors are handshakes recorded frame by frame.
 *
 * <p>Every call hands out fresh copies, so tests may modify what they get.
 */
public final class GoldenVectors {
  private static final String RESOURCE = "/golden/vectors.txt";

  private GoldenVectors() {}

  /** All vectors by name, in file order. */
  public static Map<String, byte[]> load() {
    Map<String, byte[]> copy = new LinkedHashMap<>();
    Parsed.VECTORS.forEach((name, bytes) -> copy.put(name, bytes.clone()));
    return copy;
  }

  /** The vector called {@code name}. */
  public static byte[] get(String name) {
    byte[] bytes = Parsed.VECTORS.get(name);
    if (bytes == null) {
      throw new IllegalArgumentException("no golden vector: " + name);
    }
    return bytes.clone();
  }

  /** Whether a vector called {@code name} exists. */
  public static boolean contains(String name) {
    return Parsed.VECTORS.containsKey(name);
  }

  /** The vector called {@code name} as UTF-8 text, for the {@code .outcome} vectors. */
  public static String text(String name) {
    return new String(get(name), StandardCharsets.UTF_8);
  }

  /**
   * The payload of a recorded frame: checks that it starts with a 4-byte big-endian header whose
   * value is exactly the number of bytes after it.
   */
  public static byte[] payload(byte[] frame) {
    if (frame.length < 4) {
      throw new IllegalArgumentException("frame shorter than its header: " + frame.length);
    }
    int declared = ByteBuffer.wrap(frame, 0, 4).getInt();
    if (declared != frame.length - 4) {
      throw new IllegalArgumentException(
          "header declares " + declared + " bytes, frame carries " + (frame.length - 4));
    }
    return Arrays.copyOfRange(frame, 4, frame.length);
  }

  /** Parsed once per test JVM; the file does not change while tests run. */
  private static final class Parsed {
    static final Map<String, byte[]> VECTORS = parse();

    private static Map<String, byte[]> parse() {
      String text;
      try (InputStream in = GoldenVectors.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("missing test resource " + RESOURCE);
        }
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Map<String, byte[]> vectors = new LinkedHashMap<>();
      String[] lines = text.split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] fields = line.split("\t", -1);
        if (fields.length != 2) {
          throw new IllegalStateException(RESOURCE + ":" + (i + 1) + ": not NAME<TAB>HEX");
        }
        if (vectors.put(fields[0], HexFormat.of().parseHex(fields[1])) != null) {
          throw new IllegalStateException(RESOURCE + ":" + (i + 1) + ": duplicate " + fields[0]);
        }
      }
      return Collections.unmodifiableMap(vectors);
    }
  }
}
