package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The demo against a real CPython, found the way the demo finds it. */
class DemoCommandTest {
  /** The start of each line after the first, with and without numpy on the Python side. */
  private static List<String> exchange(boolean numpy) {
    List<String> lines = new ArrayList<>(List.of(
        "python -> java: hello from python 3.",
        "java -> python: ack 1: ",
        "python -> java: text beyond ascii: ünïcödé ✓",
        "java -> python: ack 2: 34 bytes",
        "python -> java: hex:000102feff",
        "java -> python: ack 3: 5 bytes",
        "python -> java: bye",
        "java -> python: hello from java ",
        "python -> java: (3, ",
        "demo: objects from here on, pickled with protocol ",
        "java -> python: " + JAVA_OBJECT,
        "python -> java: {'answer': 42, 'pair': ('pi', 3.14159), 'nothing': None,"
            + " 'primes': {2, 3, 5, 7}}"));
    if (numpy) lines.add(NUMPY_LINE);
    lines.addAll(List.of(
        "python -> java: 'bye'",
        "python printed: got 3 acks as expected, then 'hello from java ",
        // Python's own repr of what it received: the same line as Java's repr of what it sent.
        "python printed: received " + JAVA_OBJECT,
        numpy ? "python printed: sent a numpy " : "python printed: numpy is not installed here",
        "demo: done"));
    return lines;
  }

  private static final String JAVA_OBJECT = "{'text': 'hello from java', 'nested': [1, 2, [3, 4]],"
      + " 'bytes': b'\\x00\\x01\\xfe\\xff', 'big': 1267650600228229401496703205376}";

  private static final String NUMPY_LINE = "python -> java: array(dtype=float64, shape=(2, 3))"
      + " with values [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]";

  @Test
  void exchangesMessagesBothWaysWithPythonWithoutKey() throws Exception {
    Path python = python();
    Cli.Lines out = new Cli.Lines();
    Cli.Lines err = new Cli.Lines();
    DemoCommand demo = new DemoCommand(Cli.context("", out, err, System.getenv()));
    int code = demo.run(python, Optional.empty());
    assertEquals("", err.text());
    assertEquals(0, code, out.text());
    List<String> lines = out.text().lines().toList();
    assertTrue(lines.get(0).startsWith("demo: " + python + " connects to unix:/"), lines.get(0));
    assertTrue(lines.get(0).endsWith(" without a key"), lines.get(0));
    assertExchange(lines.subList(1, lines.size()));
  }

  @Test
  void exchangesMessagesBothWaysWithPythonUsingFreshKey() throws Exception {
    Path python = python();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(PythonFinder.FERRY_PYTHON, python.toString());
    Cli.Result r = Cli.runWithEnv("", env, "demo");
    assertEquals("", r.err());
    assertEquals(0, r.exitCode(), r.out());
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.get(0).endsWith(" with a fresh 32-byte authkey"), lines.get(0));
    assertExchange(lines.subList(1, lines.size()));
  }

  @Test
  void failsWithOneLineWhenNoPythonIsFound() {
    Cli.Result r = Cli.runWithEnv("", Map.of("PATH", "/nonexistent", "HOME", "/nonexistent"), "demo");
    assertEquals(1, r.exitCode());
    assertEquals("no python found: set FERRY_PYTHON, put python3 on PATH, or install a python 3"
        + " with pyenv\n", r.err());
    assertEquals("", r.out());
  }

  @Test
  void failsWithOneLineWhenPythonPeerFails() {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(PythonFinder.FERRY_PYTHON, "/bin/false");
    Cli.Result r = Cli.runWithEnv("", env, "demo");
    assertEquals(1, r.exitCode());
    assertEquals("python peer exited before connecting (exit 1): no message\n", r.err());
  }

  @Test
  void showsTheNumpyArrayWhenPythonHasNumpy() throws Exception {
    Path python = pyenvPythonWithNumpy();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(PythonFinder.FERRY_PYTHON, python.toString());
    Cli.Result r = Cli.runWithEnv("", env, "demo");
    assertEquals("", r.err());
    assertEquals(0, r.exitCode(), r.out());
    assertTrue(r.out().lines().anyMatch(NUMPY_LINE::equals), r.out());
    assertTrue(r.out().contains("\npython -> java: (3, 11)\n"), r.out());
    assertTrue(r.out().contains("\ndemo: objects from here on, pickled with protocol 4 for python"
        + " 3.11\n"), r.out());
  }

  private static void assertExchange(List<String> lines) {
    List<String> expected = exchange(lines.contains(NUMPY_LINE));
    assertEquals(expected.size(), lines.size(), String.join("\n", lines));
    for (int i = 0; i < expected.size(); i++) {
      assertTrue(lines.get(i).startsWith(expected.get(i)),
          "line " + i + ": " + lines.get(i) + "\nexpected to start with: " + expected.get(i));
    }
  }

  /** pyenv's 3.11, which has numpy where this project is developed; skips where there is none. */
  private static Path pyenvPythonWithNumpy() throws Exception {
    Optional<Path> root = PythonFinder.pyenvRoot(System.getenv());
    assumeTrue(root.isPresent(), "no pyenv");
    Path versions = root.get().resolve("versions");
    assumeTrue(Files.isDirectory(versions), "no pyenv versions");
    Optional<Path> python;
    try (Stream<Path> dirs = Files.list(versions)) {
      python = dirs.filter(dir -> dir.getFileName().toString().startsWith("3.11."))
          .map(dir -> dir.resolve("bin").resolve("python"))
          .filter(Files::isExecutable)
          .findFirst();
    }
    assumeTrue(python.isPresent(), "no pyenv python 3.11");
    Process check = new ProcessBuilder(python.get().toString(), "-c", "import numpy")
        .redirectErrorStream(true).start();
    check.getOutputStream().close();
    check.getInputStream().readAllBytes();
    assumeTrue(check.waitFor() == 0, "pyenv python 3.11 has no numpy");
    return python.get();
  }

  /** Skips where there is no Python, except on CI, which must have one. */
  static Path python() {
    Optional<Path> python = PythonFinder.find(System.getenv());
    if (python.isEmpty()) {
      if ("true".equals(System.getenv("CI"))) fail("no python found, and CI=true needs one");
      assumeTrue(false, "no python found");
    }
    return python.get();
  }
}
