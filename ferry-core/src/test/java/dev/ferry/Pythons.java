package dev.ferry;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds the machine's CPython interpreters through pyenv. A missing interpreter skips the test
 * locally and fails it in CI (environment variable {@code CI=true}), where every version must be
 * there.
 */
public final class Pythons {
  private Pythons() {}

  /** The interpreter whose version starts with {@code prefix}, like "2.7" or "3.13". */
  public static Path require(String prefix) {
    Optional<Path> python = find(prefix);
    if (python.isEmpty()) {
      String message = "no CPython " + prefix + " under " + pyenvRoot() + "/versions";
      if ("true".equals(System.getenv("CI"))) Assertions.fail(message + " (required in CI)");
      Assumptions.abort(message);
    }
    return python.get();
  }

  public static Optional<Path> find(String prefix) {
    Path versions = pyenvRoot().resolve("versions");
    if (!Files.isDirectory(versions)) return Optional.empty();
    try (Stream<Path> dirs = Files.list(versions)) {
      List<Path> matches = dirs
          .filter(d -> d.getFileName().toString().equals(prefix)
              || d.getFileName().toString().startsWith(prefix + "."))
          .map(d -> d.resolve("bin/python"))
          .filter(Files::isExecutable)
          .sorted(Comparator.comparing(Path::toString))
          .collect(Collectors.toList());
      return matches.isEmpty() ? Optional.empty() : Optional.of(matches.get(matches.size() - 1));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  static Path pyenvRoot() {
    String env = System.getenv("PYENV_ROOT");
    if (env != null && !env.isEmpty()) return Path.of(env);
    try {
      Process p = new ProcessBuilder("pyenv", "root").redirectErrorStream(true).start();
      String line;
      try (InputStream in = p.getInputStream()) {
        line = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      }
      if (p.waitFor() == 0 && !line.isEmpty()) return Path.of(line);
    } catch (IOException e) {
      // fall through to the default location
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return Path.of(System.getProperty("user.home"), ".pyenv");
  }

  /** Where {@link #script} puts the scripts: one folder, so that they can import each other. */
  private static Path scripts;

  /**
   * Copies a test resource script, under its own name, into a temporary folder shared by all the
   * scripts (a script imports another extracted beside it), and returns its path.
   */
  public static synchronized Path script(String resource) throws IOException {
    if (scripts == null) {
      scripts = Files.createTempDirectory("ferry-python-");
      scripts.toFile().deleteOnExit();
    }
    Path file = scripts.resolve(resource.substring(resource.lastIndexOf('/') + 1));
    try (InputStream in = Pythons.class.getResourceAsStream(resource)) {
      if (in == null) throw new IOException("missing test resource " + resource);
      Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    file.toFile().deleteOnExit();
    return file;
  }

  /** Reads one line, as the peers talk: used with a timeout by the callers. */
  static BufferedReader lines(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  /** Drains the peer's output as it comes, so that a long line never blocks the peer. */
  static java.util.concurrent.BlockingQueue<String> output(Process python) {
    java.util.concurrent.BlockingQueue<String> lines = new java.util.concurrent.LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader in = lines(python)) {
        for (String l = in.readLine(); l != null; l = in.readLine()) lines.add(l);
      } catch (IOException e) {
        lines.add("reader failed: " + e);
      }
    }, "python-output");
    reader.setDaemon(true);
    reader.start();
    return lines;
  }

  /** The peer's next line, or an assertion error after 30 s of silence. */
  static String line(java.util.concurrent.BlockingQueue<String> lines) throws InterruptedException {
    String line = lines.poll(30, java.util.concurrent.TimeUnit.SECONDS);
    if (line == null) throw new AssertionError("python printed nothing for 30 s");
    return line;
  }

  /** The peer's exit code, or an assertion error if it does not exit within 30 s. */
  static int exit(Process p) throws InterruptedException {
    if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
      throw new AssertionError("python did not exit");
    }
    return p.exitValue();
  }
}
