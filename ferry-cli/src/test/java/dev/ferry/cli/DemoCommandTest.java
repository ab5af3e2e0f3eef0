package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The demo against a real CPython, found the way the demo finds it. */
class DemoCommandTest {
  private static final List<String> EXCHANGE = List.of(
      "python -> java: hello from python 3.",
      "java -> python: ack 1: ",
      "python -> java: text beyond ascii: ünïcödé ✓",
      "java -> python: ack 2: 34 bytes",
      "python -> java: hex:000102feff",
      "java -> python: ack 3: 5 bytes",
      "python -> java: bye",
      "java -> python: hello from java ",
      "python printed: got 3 acks as expected, then 'hello from java ",
      "demo: done");

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

  private static void assertExchange(List<String> lines) {
    assertEquals(EXCHANGE.size(), lines.size(), String.join("\n", lines));
    for (int i = 0; i < EXCHANGE.size(); i++) {
      assertTrue(lines.get(i).startsWith(EXCHANGE.get(i)),
          "line " + i + ": " + lines.get(i) + "\nexpected to start with: " + EXCHANGE.get(i));
    }
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
