package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs {@code ferry} command lines in this JVM with captured streams. */
final class Cli {
  /** Generous: only a hang should ever reach it. */
  static final Duration PATIENCE = Duration.ofSeconds(30);

  private Cli() {}

  record Result(int exitCode, String out, String err) {}

  /**
   * Runs {@code command} to its end, stdout and stderr together into {@code output} (a file: a
   * pipe read to its end would wait for a hung process before any timeout could fail it); asserts
   * exit 0 within {@link #PATIENCE} and returns what it printed, stripped.
   */
  static String finish(ProcessBuilder command, Path output) throws Exception {
    Process process = command.redirectErrorStream(true).redirectOutput(output.toFile()).start();
    try {
      process.getOutputStream().close();
      boolean exited = process.waitFor(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      String printed = Files.readString(output);
      assertTrue(exited, "no exit within " + PATIENCE + "; so far: " + printed);
      assertEquals(0, process.exitValue(), printed);
      return printed.strip();
    } finally {
      process.destroyForcibly();
    }
  }

  static Result run(String... args) {
    return runWithInput("", args);
  }

  static Result runWithInput(String stdin, String... args) {
    return runWithEnv(stdin, System.getenv(), args);
  }

  static Result runWithEnv(String stdin, Map<String, String> env, String... args) {
    Lines out = new Lines();
    Lines err = new Lines();
    int code = Main.run(args, context(stdin, out, err, env));
    return new Result(code, out.text(), err.text());
  }

  static CliContext context(String stdin, Lines out, Lines err, Map<String, String> env) {
    return new CliContext(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
        new PrintWriter(out), new PrintWriter(err), env, false);
  }

  /** A command running on its own thread, such as a server. */
  static Running start(String... args) {
    Lines out = new Lines();
    Lines err = new Lines();
    CliContext context = context("", out, err, System.getenv());
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    Thread thread = new Thread(() -> {
      try {
        exit.complete(Main.run(args, context));
      } catch (Throwable t) {
        exit.completeExceptionally(t);
      }
    }, "test-cli-" + args[0]);
    thread.start();
    return new Running(exit, out, err);
  }

  static final class Running {
    private final CompletableFuture<Integer> exit;
    final Lines out;
    final Lines err;

    Running(CompletableFuture<Integer> exit, Lines out, Lines err) {
      this.exit = exit;
      this.out = out;
      this.err = err;
    }

    /** The address from the {@code listening on ADDR} line. */
    String awaitListening() throws InterruptedException {
      String line = out.awaitLine();
      if (!line.startsWith("listening on ")) throw new AssertionError("first line: " + line);
      return line.substring("listening on ".length());
    }

    Result awaitExit() throws Exception {
      int code = exit.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      return new Result(code, out.text(), err.text());
    }
  }

  /** A writer that keeps everything and hands out complete lines as they arrive. */
  static final class Lines extends Writer {
    private final StringBuffer all = new StringBuffer();
    private final StringBuilder partial = new StringBuilder();
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    @Override
    public synchronized void write(char[] chars, int offset, int length) {
      all.append(chars, offset, length);
      for (int i = offset; i < offset + length; i++) {
        if (chars[i] == '\n') {
          lines.add(partial.toString());
          partial.setLength(0);
        } else if (chars[i] != '\r') {
          partial.append(chars[i]);
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}

    String awaitLine() throws InterruptedException {
      String line = lines.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(line, "no line within " + PATIENCE + "; so far: " + all);
      return line;
    }

    String text() {
      return all.toString();
    }
  }
}
