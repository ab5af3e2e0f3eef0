package dev.ferry.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds the Python that {@code ferry demo} runs: {@code FERRY_PYTHON} if set (a path, or a name
 * looked up on {@code PATH}), else {@code python3} on {@code PATH}, else the newest
 * {@code $(pyenv root)/versions/3.*}{@code /bin/python}.
 */
final class PythonFinder {
  static final String FERRY_PYTHON = "FERRY_PYTHON";

  private static final Pattern VERSION = Pattern.compile("3\\.(\\d+)(?:\\.(\\d+))?(.*)");

  private PythonFinder() {}

  /**
   * The Python to run, or empty if there is none.
   *
   * @throws CommandFailure if {@code FERRY_PYTHON} is set but names no executable file
   */
  /** The Python to run a demo with, or a one-line failure saying how to provide one. */
  static Path require(Map<String, String> env) {
    return find(env).orElseThrow(() -> new CommandFailure("no python found: set " + FERRY_PYTHON
        + ", put python3 on PATH, or install a python 3 with pyenv"));
  }

  static Optional<Path> find(Map<String, String> env) {
    String chosen = env.get(FERRY_PYTHON);
    if (chosen != null && !chosen.isEmpty()) {
      Optional<Path> python = chosen.contains(File.separator)
          ? executable(Path.of(chosen)) : onPath(chosen, env);
      return Optional.of(python.orElseThrow(
          () -> new CommandFailure(FERRY_PYTHON + " is not an executable: " + chosen)));
    }
    Optional<Path> python3 = onPath("python3", env);
    if (python3.isPresent()) return python3;
    return pyenvRoot(env).flatMap(PythonFinder::newestPyenvPython);
  }

  static Optional<Path> onPath(String name, Map<String, String> env) {
    String path = env.getOrDefault("PATH", "");
    if (path.isEmpty()) return Optional.empty();
    for (String dir : path.split(File.pathSeparator, -1)) {
      Optional<Path> found = executable(Path.of(dir.isEmpty() ? "." : dir, name));
      if (found.isPresent()) return found;
    }
    return Optional.empty();
  }

  /** {@code PYENV_ROOT}, else what {@code pyenv root} prints, else {@code ~/.pyenv}. */
  static Optional<Path> pyenvRoot(Map<String, String> env) {
    String root = env.get("PYENV_ROOT");
    if (root != null && !root.isEmpty()) return Optional.of(Path.of(root));
    Optional<Path> pyenv = onPath("pyenv", env);
    if (pyenv.isPresent()) {
      Optional<Path> printed = runPyenvRoot(pyenv.get());
      if (printed.isPresent()) return printed;
    }
    String home = env.get("HOME");
    if (home == null || home.isEmpty()) return Optional.empty();
    Path dotPyenv = Path.of(home, ".pyenv");
    return Files.isDirectory(dotPyenv) ? Optional.of(dotPyenv) : Optional.empty();
  }

  /** The highest 3.x under {@code root/versions} with a {@code bin/python}. */
  static Optional<Path> newestPyenvPython(Path root) {
    Path versions = root.resolve("versions");
    if (!Files.isDirectory(versions)) return Optional.empty();
    try (Stream<Path> dirs = Files.list(versions)) {
      List<Path> candidates = dirs
          .filter(dir -> VERSION.matcher(dir.getFileName().toString()).matches())
          .sorted(Comparator.comparing(PythonFinder::versionKey).reversed())
          .toList();
      for (Path dir : candidates) {
        Optional<Path> python = executable(dir.resolve("bin").resolve("python"));
        if (python.isPresent()) return python;
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Orders 3.9 < 3.10 < 3.12.0rc1 < 3.12.0 < 3.12.1: numbers first, releases over previews. */
  private static String versionKey(Path dir) {
    Matcher m = VERSION.matcher(dir.getFileName().toString());
    if (!m.matches()) throw new IllegalStateException("filtered out already: " + dir);
    int minor = Integer.parseInt(m.group(1));
    int patch = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
    String suffix = m.group(3);
    return String.format("%06d.%06d.%s", minor, patch, suffix.isEmpty() ? "~" : suffix);
  }

  private static Optional<Path> executable(Path file) {
    return Files.isRegularFile(file) && Files.isExecutable(file)
        ? Optional.of(file) : Optional.empty();
  }

  private static Optional<Path> runPyenvRoot(Path pyenv) {
    try {
      Process process = new ProcessBuilder(pyenv.toString(), "root")
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .start();
      String printed;
      try (InputStream in = process.getInputStream()) {
        printed = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
      }
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return Optional.empty();
      }
      return process.exitValue() == 0 && !printed.isEmpty()
          ? Optional.of(Path.of(printed)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
