package dev.ferry.interop;

import dev.ferry.Pythons;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@link PythonPeer} per CPython version, started before the first test of a class (so that
 * their pipes are not counted as leaks by {@code LeakCheck}) and closed after the last.
 */
final class Peers implements AutoCloseable {
  /** Every CPython version Ferry supports, as pyenv prefixes. */
  static final List<String> ALL = List.of(
      "2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13");

  private final Map<String, PythonPeer> peers = new LinkedHashMap<>();

  private Peers() {}

  /** Starts a peer for each of {@code versions} installed; a missing one fails its tests later. */
  static Peers start(List<String> versions) throws IOException {
    Path driver = driver();
    Peers pool = new Peers();
    try {
      for (String version : versions) {
        Optional<Path> python = Pythons.find(version);
        if (python.isPresent()) pool.peers.put(version, PythonPeer.start(python.get(), driver));
      }
    } catch (IOException | RuntimeException e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  /**
   * The peer of {@code version}; skips the test if that interpreter is missing, or fails it in CI
   * ({@code CI=true}), where every version must be installed.
   */
  PythonPeer get(String version) {
    PythonPeer peer = peers.get(version);
    if (peer == null) {
      Pythons.require(version);
      throw new AssertionError("python " + version + " was found too late to start");
    }
    return peer;
  }

  /** Readies every peer for the next test, replacing one that a failed case left blocked. */
  void reset() throws IOException {
    for (PythonPeer peer : peers.values()) peer.reset();
  }

  @Override
  public void close() {
    for (PythonPeer peer : peers.values()) peer.close();
    peers.clear();
  }

  private static Path driver() throws IOException {
    // Surefire runs tests in the module's directory and names it in "basedir".
    Path driver = Path.of(System.getProperty("basedir", "."), "src/test/python/driver.py");
    if (!Files.isRegularFile(driver)) throw new IOException("missing driver script " + driver);
    return driver.toAbsolutePath();
  }
}
