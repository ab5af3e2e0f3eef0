package dev.ferry;

/**
 * The CPython version of a peer, where it matters on the wire: only Python 3.8 and later read
 * frames over 2 GiB (older ones would silently lose their place in the stream), and each version
 * reads pickles up to its own highest protocol.
 *
 * @param major like 3
 * @param minor like 13
 */
public record PythonVersion(int major, int minor) implements Comparable<PythonVersion> {

  public PythonVersion {
    if (major < 2 || minor < 0) throw new IllegalArgumentException("bad python version: " + major + "." + minor);
  }

  /** Parses "3.13", "3.13.0" or "2.7.18". */
  public static PythonVersion parse(String text) {
    String[] parts = text.trim().split("\\.");
    try {
      if (parts.length >= 2) return new PythonVersion(Integer.parseInt(parts[0]), Integer.parseInt(parts[1]));
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException("bad python version: " + text + " (expected like 3.13)");
  }

  /** Whether this version reads the 64-bit length escape of messages over 2 GiB. */
  public boolean readsLongFrames() {
    return compareTo(new PythonVersion(3, 8)) >= 0;
  }

  @Override
  public int compareTo(PythonVersion o) {
    return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
  }

  @Override
  public String toString() {
    return major + "." + minor;
  }
}
