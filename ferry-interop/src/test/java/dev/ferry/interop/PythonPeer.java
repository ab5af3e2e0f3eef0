package dev.ferry.interop;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One long-lived CPython process running {@code src/test/python/driver.py}, which serves many
 * cases: the test writes one command per line on its stdin and reads its answers. Keys travel on
 * stdin, never on the command line. A thread drains stdout as it comes, so a long answer never
 * blocks the interpreter.
 *
 * <p>Not thread safe: one test at a time talks to a peer.
 */
final class PythonPeer implements AutoCloseable {
  /** How long a step of an ordinary case may take before the test fails. */
  static final Duration STEP = Duration.ofSeconds(20);

  private final String version;
  private final Path python;
  private final Path driver;
  private Process process;
  private OutputStream stdin;
  private BlockingQueue<String> lines;
  /** A command was sent whose final "ok" or "error" line has not been read yet. */
  private boolean busy;

  private PythonPeer(String version, Path python, Path driver) {
    this.version = version;
    this.python = python;
    this.driver = driver;
  }

  static PythonPeer start(Path python, Path driver) throws IOException {
    // pyenv installs each interpreter under versions/<full version>/bin/python.
    String version = python.getParent().getParent().getFileName().toString();
    PythonPeer peer = new PythonPeer(version, python, driver);
    peer.launch();
    return peer;
  }

  private void launch() throws IOException {
    ProcessBuilder pb = new ProcessBuilder(python.toString(), "-u", driver.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    process = pb.start();
    stdin = process.getOutputStream();
    lines = new LinkedBlockingQueue<>();
    BlockingQueue<String> queue = lines;
    Process p = process;
    Thread drain = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(
          new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String l = in.readLine(); l != null; l = in.readLine()) queue.add(l);
      } catch (IOException e) {
        queue.add("drain failed: " + e);
      }
    }, "python-" + version + "-stdout");
    drain.setDaemon(true);
    drain.start();
    busy = false;
  }

  /** The interpreter's full version, like "3.13.0". */
  String version() {
    return version;
  }

  /**
   * Has Python listen on {@code address} (TCP port 0: any free port) and run {@code mode} with the
   * one client it accepts. Returns the address bound; the result comes from {@link #result()}.
   */
  Address serve(Address address, AuthKey key, String mode) throws IOException {
    command("serve " + address + " " + keyWord(key) + " " + mode);
    String line = line(STEP);
    if (!line.startsWith("listening ")) {
      busy = false;
      throw new AssertionError("python " + version + " did not listen: " + line);
    }
    return Address.parse(line.substring("listening ".length()));
  }

  /** Has Python connect to {@code address} and run {@code mode}; see {@link #result()}. */
  void connect(Address address, AuthKey key, String mode) throws IOException {
    command("connect " + address + " " + keyWord(key) + " " + mode);
  }

  /** Has Python connect {@code count} clients and wait for "go"; see the driver. */
  void connectForWait(Address address, int count) throws IOException {
    command("wait " + address + " none " + count);
  }

  /** Writes a line to the driver without starting a command (the "go" of wait). */
  void tell(String line) throws IOException {
    stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    stdin.flush();
  }

  /** The result line of the current command: "ok ..." or "error Type: message". */
  String result() {
    return result(STEP);
  }

  String result(Duration timeout) {
    String line = line(timeout);
    if (line.startsWith("ok ") || line.startsWith("error ")) busy = false;
    return line;
  }

  /** The next line of output, failing the test if none comes in time. */
  String line(Duration timeout) {
    String line;
    try {
      line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for python " + version);
    }
    if (line == null) {
      String state = process.isAlive() ? "still running" : "exited " + process.exitValue();
      throw new AssertionError("python " + version + " printed nothing for " + timeout
          + " (" + state + ")");
    }
    return line;
  }

  private void command(String line) throws IOException {
    if (busy) throw new IllegalStateException("python " + version + " is still busy");
    if (!lines.isEmpty()) {
      throw new AssertionError("unread output from python " + version + ": " + lines);
    }
    busy = true;
    tell(line);
  }

  /**
   * Makes the peer ready for the next case. A case that failed halfway may have left Python
   * blocked in accept() or recv(): such a peer is replaced by a fresh process.
   */
  void reset() throws IOException {
    if (!busy && lines.isEmpty() && process.isAlive()) return;
    if (busy && process.isAlive()) {
      try {
        result(Duration.ofSeconds(2));
      } catch (AssertionError e) {
        // still blocked: replaced below
      }
    }
    if (!busy && lines.isEmpty() && process.isAlive()) return;
    kill();
    launch();
  }

  private void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeStreams();
  }

  private void closeStreams() {
    try {
      stdin.close();
    } catch (IOException e) {
      // the process is gone; nothing left to flush
    }
  }

  @Override
  public void close() {
    try {
      if (process.isAlive() && !busy) tell("quit");
    } catch (IOException e) {
      // exits below regardless
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    closeStreams();
  }

  private static String keyWord(AuthKey key) {
    if (key == null) return "none";
    return key.length() == 0 ? "empty" : key.toHex();
  }

  @Override
  public String toString() {
    return "python " + version;
  }
}
