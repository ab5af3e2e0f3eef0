package dev.ferry.handle;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.AuthenticationException;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Wait;
import dev.ferry.internal.events.FerryEvents;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A child process started with a connection to this process already open: a Java main class on
 * this process's class path, a Python script or {@code -c} code, or any program that reads the
 * three lines {@link Child} describes.
 *
 * <pre>{@code
 * try (ChildProcess child = ChildProcess.startPython(python, Path.of("worker.py"), List.of())) {
 *   child.connection().sendBytes(request);
 *   for (Object ready : Wait.ready(List.of(child.connection(), child.process()))) { ... }
 * }
 * }</pre>
 *
 * <p>How the connection is made: this process listens on a one-time Linux abstract address with a
 * one-time random key, writes {@code ferry-child 1}, the address and the key in hex to the child's
 * standard input, closes it, and accepts exactly one authenticated connection; then the listener
 * is gone. Neither address nor key ever appears on a command line, where {@code ps} would show
 * it. The child inherits no other descriptor of this process ({@link ProcessBuilder} closes them),
 * its standard input is at end of file once it has connected, and its standard output and error
 * are this process's unless the builder passed to {@link #start} says otherwise.
 *
 * <p>{@link #process()} can be passed to {@link Wait} beside connections.
 */
public final class ChildProcess implements AutoCloseable {
  /** How long a child has to connect after it starts. */
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

  private static final String HELPER = "ferry_child.py";

  private final Process process;
  private final Connection connection;
  private final AuthKey authKey;

  private ChildProcess(Process process, Connection connection, AuthKey authKey) {
    this.process = process;
    this.connection = connection;
    this.authKey = authKey;
    long started = System.nanoTime();
    process.onExit().thenAccept(p -> FerryEvents.childExited(p.pid(), p.exitValue(),
        System.nanoTime() - started));
  }

  /**
   * The one-time key the child authenticated with. A Python child's
   * {@code ferry_child.connect_to_parent()} also makes it the child's multiprocessing authkey,
   * which pickled connections need on both sides (see {@code dev.ferry.pickle.ResourceSharer}).
   */
  public AuthKey authKey() {
    return authKey;
  }

  public Process process() {
    return process;
  }

  /** The connection to the child: duplex, over a Unix socket, so it can carry descriptors too. */
  public Connection connection() {
    return connection;
  }

  /**
   * Starts {@code mainClass} in a new JVM with this process's class path, the same Java, and
   * {@code args}. The child calls {@link Child#connectToParent()}.
   */
  public static ChildProcess startJava(Class<?> mainClass, List<String> args) throws IOException {
    return startJava(mainClass.getName(), args);
  }

  /** As {@link #startJava(Class, List)}, by class name. */
  public static ChildProcess startJava(String mainClass, List<String> args) throws IOException {
    Objects.requireNonNull(mainClass, "mainClass");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // junixsocket loads a native library; JDK 24+ warns unless native access is enabled.
    if (Runtime.version().feature() >= 22) command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(args);
    return start(new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.INHERIT)
        .redirectError(ProcessBuilder.Redirect.INHERIT));
  }

  /**
   * Starts {@code python script args...}; the script does {@code import ferry_child} and
   * {@code conn = ferry_child.connect_to_parent()}, and gets a
   * {@code multiprocessing.connection.Connection}. Stdlib only on the Python side.
   */
  public static ChildProcess startPython(Path python, Path script, List<String> args)
      throws IOException {
    Objects.requireNonNull(script, "script");
    List<String> command = new ArrayList<>(List.of(python.toString(), script.toString()));
    command.addAll(args);
    return startPythonCommand(command);
  }

  /** Starts {@code python -c code args...}, with {@code ferry_child} importable as for a script. */
  public static ChildProcess startPythonCode(Path python, String code, List<String> args)
      throws IOException {
    Objects.requireNonNull(code, "code");
    List<String> command = new ArrayList<>(List.of(python.toString(), "-c", code));
    command.addAll(args);
    return startPythonCommand(command);
  }

  private static ChildProcess startPythonCommand(List<String> command) throws IOException {
    // The helper goes into a directory only this user can enter, gone again once the child has
    // connected (it has imported the module by then).
    Path dir = Files.createTempDirectory("ferry-child-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path helper = dir.resolve(HELPER);
    try {
      try (InputStream in = ChildProcess.class.getResourceAsStream(HELPER)) {
        if (in == null) throw new IOException("missing resource " + HELPER);
        Files.copy(in, helper, StandardCopyOption.REPLACE_EXISTING);
      }
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.INHERIT)
          .redirectError(ProcessBuilder.Redirect.INHERIT);
      Map<String, String> env = builder.environment();
      String path = env.get("PYTHONPATH");
      env.put("PYTHONPATH", path == null || path.isEmpty() ? dir.toString()
          : dir + File.pathSeparator + path);
      env.put("PYTHONDONTWRITEBYTECODE", "1");
      return start(builder);
    } finally {
      Files.deleteIfExists(helper);
      Files.deleteIfExists(dir);
    }
  }

  /**
   * Starts the program of {@code builder}, whose standard input must be left as a pipe (the
   * default), and waits up to {@link #CONNECT_TIMEOUT} for it to connect.
   *
   * @throws IOException if the child exits or the time runs out before it connects; the child
   *     is killed in the second case
   */
  public static ChildProcess start(ProcessBuilder builder) throws IOException {
    Objects.requireNonNull(builder, "builder");
    if (builder.redirectInput() != ProcessBuilder.Redirect.PIPE) {
      throw new IllegalArgumentException("stdin must be a pipe: " + builder.redirectInput());
    }
    AuthKey key = AuthKey.random();
    Address address = new Address.Abstract("ferry-child-" + HexFormat.of().formatHex(
        AuthKey.random().bytes(), 0, 16));
    ConnectionOptions options = ConnectionOptions.builder().authKey(key).backlog(1).build();
    try (Listener listener = Listener.bind(address, options)) {
      Process process = builder.start();
      try {
        try (OutputStream stdin = process.getOutputStream()) {
          stdin.write((Child.MAGIC + "\n" + address + "\n" + key.toHex() + "\n")
              .getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
          // The child exited before reading: reported below, with its status.
        }
        Connection connection = acceptFrom(listener, process);
        closeStreams(process);
        return new ChildProcess(process, connection, key);
      } catch (IOException | RuntimeException e) {
        process.destroyForcibly();
        closeStreams(process);
        throw e;
      }
    }
  }

  private static Connection acceptFrom(Listener listener, Process process) throws IOException {
    long deadline = System.nanoTime() + CONNECT_TIMEOUT.toNanos();
    while (true) {
      Duration left = Duration.ofNanos(deadline - System.nanoTime());
      if (left.isNegative()) {
        throw new SocketTimeoutException("child " + process.pid() + " did not connect within "
            + CONNECT_TIMEOUT.toMillis() + " ms");
      }
      List<Object> ready = Wait.ready(List.of(listener, process), left);
      if (ready.contains(listener)) {
        try {
          return listener.accept(Duration.ZERO);
        } catch (AuthenticationException e) {
          continue; // not our child: someone guessed the name but not the key
        }
      }
      if (ready.contains(process)) {
        throw new IOException("child " + process.pid() + " exited with status "
            + process.exitValue() + " before connecting");
      }
    }
  }

  /** The parent keeps no pipe to the child beyond what the builder redirected. */
  private static void closeStreams(Process process) throws IOException {
    process.getOutputStream().close();
    process.getInputStream().close();
    process.getErrorStream().close();
  }

  /**
   * Closes the connection (the child sees end of stream) and waits up to {@code timeout} for the
   * child to exit; kills it if it does not. Returns its exit status.
   */
  public int closeAndWait(Duration timeout) throws IOException, InterruptedException {
    connection.close();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
    }
    return process.waitFor();
  }

  /** Closes the connection and kills the child if it is still running. */
  @Override
  public void close() throws IOException {
    try {
      connection.close();
    } finally {
      process.destroyForcibly();
    }
  }

  @Override
  public String toString() {
    return "ChildProcess[pid " + process.pid() + (process.isAlive() ? "" : ", exited") + "]";
  }
}
