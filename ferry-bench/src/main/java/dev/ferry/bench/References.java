package dev.ferry.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The programs measured beside Ferry: the C socketpair program (compiled here with the machine's
 * gcc) and the CPython script, both shipped as resources and run as child processes that print
 * their own timings as one JSON line.
 */
final class References {
  private static final long PROCESS_TIMEOUT_SECONDS = 300;

  private References() {}

  /** Copies a resource of this package into {@code dir}. */
  static Path extract(String resource, Path dir) throws IOException {
    return extract(References.class, resource, dir);
  }

  /** Copies {@code owner}'s resource {@code resource} into {@code dir}, unless it is there. */
  static Path extract(Class<?> owner, String resource, Path dir) throws IOException {
    Path file = dir.resolve(resource);
    if (Files.exists(file)) return file;
    try (InputStream in = owner.getResourceAsStream(resource)) {
      if (in == null) throw new IOException("missing resource: " + resource);
      Files.copy(in, file);
    }
    return file;
  }

  /** Compiles the C reference with {@code gcc -O2}; the error says why not. */
  static Path compileC(Path dir) throws IOException, InterruptedException {
    Path source = extract("cref.c", dir);
    Path binary = dir.resolve("cref");
    ProcessBuilder gcc = new ProcessBuilder("gcc", "-O2", "-o", binary.toString(), source.toString())
        .redirectErrorStream(true);
    Process process;
    try {
      process = gcc.start();
    } catch (IOException e) {
      throw new IOException("no gcc on PATH, C reference skipped");
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) throw new IOException("gcc failed: " + output.strip());
    return binary;
  }

  /** {@code $(pyenv root)/versions/MINOR*}{@code /bin/python}, the newest patch release. */
  static Optional<Path> pyenvPython(String minor) {
    Optional<Path> root = pyenvRoot();
    if (root.isEmpty()) return Optional.empty();
    Path versions = root.get().resolve("versions");
    if (!Files.isDirectory(versions)) return Optional.empty();
    Pattern exact = Pattern.compile(Pattern.quote(minor) + "\\.(\\d+)");
    try (Stream<Path> dirs = Files.list(versions)) {
      return dirs
          .filter(d -> exact.matcher(d.getFileName().toString()).matches())
          .filter(d -> Files.isExecutable(d.resolve("bin/python")))
          .max(Comparator.comparingInt(d -> patch(exact, d)))
          .map(d -> d.resolve("bin/python"));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static int patch(Pattern exact, Path dir) {
    Matcher m = exact.matcher(dir.getFileName().toString());
    return m.matches() ? Integer.parseInt(m.group(1)) : -1;
  }

  private static Optional<Path> pyenvRoot() {
    String env = System.getenv("PYENV_ROOT");
    if (env != null && !env.isEmpty()) return Optional.of(Path.of(env));
    try {
      Process p = new ProcessBuilder("pyenv", "root").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.waitFor() == 0 && !out.isEmpty()) return Optional.of(Path.of(out));
    } catch (IOException e) {
      // No pyenv on PATH: fall back to its default root.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String home = System.getProperty("user.home");
    Path dot = Path.of(home, ".pyenv");
    return Files.isDirectory(dot) ? Optional.of(dot) : Optional.empty();
  }

  /** Runs a program to its end and returns the last line it printed on stdout. */
  static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException("timed out: " + String.join(" ", command));
    }
    if (process.exitValue() != 0) {
      throw new IOException("exit " + process.exitValue() + ": " + String.join(" ", command));
    }
    String[] lines = out.strip().split("\n");
    return lines[lines.length - 1];
  }

  static List<String> command(Path program, Object... args) {
    List<String> command = new ArrayList<>();
    command.add(program.toString());
    Arrays.stream(args).map(String::valueOf).forEach(command::add);
    return command;
  }

  /** A whole-number field of a one-line JSON object. */
  static long field(String json, String name) throws IOException {
    Matcher m = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(\\d+)").matcher(json);
    if (!m.find()) throw new IOException("no " + name + " in: " + json);
    return Long.parseLong(m.group(1));
  }
}
