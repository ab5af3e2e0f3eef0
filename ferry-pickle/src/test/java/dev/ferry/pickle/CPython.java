package dev.ferry.pickle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs {@code src/test/python/make_pickles.py} under the pyenv interpreters. A missing
 * interpreter fails the test when the environment variable {@code CI} is {@code true} and skips
 * it otherwise.
 */
final class CPython {
  /** The interpreters the tests expect, as {@code pyenv versions --bare} lists them. */
  static final List<String> VERSIONS = List.of(
      "2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0");

  static final Path SCRIPT = Paths.get("src/test/python/make_pickles.py").toAbsolutePath();

  private CPython() {}

  static Path pyenvRoot() {
    String root = System.getenv("PYENV_ROOT");
    if (root != null && !root.isEmpty()) return Paths.get(root);
    return Paths.get(System.getProperty("user.home"), ".pyenv");
  }

  /** The interpreter for {@code version}, or a skipped (failed on CI) test. */
  static Path interpreter(String version) {
    Path python = pyenvRoot().resolve("versions").resolve(version).resolve("bin/python");
    if (!Files.isExecutable(python)) {
      String message = "python " + version + " not installed at " + python;
      if ("true".equalsIgnoreCase(System.getenv("CI"))) fail(message);
      Assumptions.abort(message);
    }
    return python;
  }

  static boolean isInstalled(String version) {
    return Files.isExecutable(
        pyenvRoot().resolve("versions").resolve(version).resolve("bin/python"));
  }

  /** One line of {@code gen} output; {@code writer} is "c" (what multiprocessing uses) or "py". */
  record Golden(String name, int protocol, String hex, String writer) {}

  /** Output of {@code make_pickles.py gen}. */
  record Generated(String version, int highestProtocol, List<Golden> pickles) {}

  static Generated generate(String version) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(interpreter(version).toString(), SCRIPT.toString(), "gen")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    process.getOutputStream().close();
    List<String> lines;
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
      lines = reader.lines().toList();
    }
    assertEquals(0, waitFor(process), "make_pickles.py gen exit status");
    String[] header = lines.get(0).split("\t");
    List<Golden> pickles = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split("\t");
      pickles.add(new Golden(f[0], Integer.parseInt(f[1]), f[2], f[3]));
    }
    return new Generated(header[1], Integer.parseInt(header[2]), pickles);
  }

  /** Sends {@code name, protocol, hex} lines to {@code make_pickles.py check}; one answer each. */
  static List<String[]> check(String version, List<String> lines)
      throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(interpreter(version).toString(), SCRIPT.toString(), "check")
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    // Write on another thread so that neither side blocks on a full pipe.
    CompletableFuture<Void> writing = new CompletableFuture<>();
    Thread writer = new Thread(() -> {
      try (Writer out =
          new OutputStreamWriter(process.getOutputStream(), StandardCharsets.US_ASCII)) {
        for (String line : lines) out.write(line + "\n");
        writing.complete(null);
      } catch (IOException | RuntimeException e) {
        writing.completeExceptionally(e);
      }
    }, "make_pickles-writer");
    writer.start();
    List<String[]> answers = new ArrayList<>();
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) answers.add(line.split("\t", 4));
    }
    writing.join();
    assertEquals(0, waitFor(process), "make_pickles.py check exit status");
    return answers;
  }

  private static int waitFor(Process process) throws InterruptedException {
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      fail("python did not finish in 120 s");
    }
    return process.exitValue();
  }
}
