package dev.ferry.cli;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Wait;
import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.PyTuple;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Exchange messages and objects with a Python process and show them.",
        "",
        "Starts Python (standard library only) with multiprocessing.connection.Client, which "
            + "connects to a Ferry listener on a fresh Unix socket with a fresh random authkey; "
            + "the key reaches Python in its environment, never on its command line. Python: "
            + "$FERRY_PYTHON, else python3 on PATH, else the newest $(pyenv root)/versions/3.*.",
        ""})
final class DemoCommand implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(DemoCommand.class.getName());

  /** The environment variable that carries the key, in hex, to the Python peer. */
  static final String KEY_VARIABLE = "FERRY_DEMO_AUTHKEY_HEX";

  /** Runs the script that follows on stdin; the script never touches the file system. */
  private static final String BOOTSTRAP =
      "import sys; exec(compile(sys.stdin.read(), 'demo_peer.py', 'exec'))";

  private static final Duration PEER_TIMEOUT = Duration.ofSeconds(30);

  private final CliContext context;

  DemoCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path python = PythonFinder.require(context.env());
    return run(python, Optional.of(AuthKey.random()));
  }

  /** The demo with {@code python}; without a key, neither side makes a handshake. */
  int run(Path python, Optional<AuthKey> key) throws IOException, InterruptedException {
    byte[] script = script();
    Path dir = Files.createTempDirectory("ferry-demo-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path peerErrors = dir.resolve("python.err");
    Address.Unix address = new Address.Unix(dir.resolve("demo.sock"));
    // Ctrl-C ends the JVM before the finally below: leave no directory behind even then. Files
    // registered later are deleted first.
    dir.toFile().deleteOnExit();
    address.path().toFile().deleteOnExit();
    peerErrors.toFile().deleteOnExit();
    ConnectionOptions.Builder options = ConnectionOptions.builder();
    key.ifPresent(options::authKey);
    PrintWriter out = context.out();
    try (Listener listener = Listener.bind(address, options.build())) {
      out.println("demo: " + python + " connects to " + address
          + key.map(k -> " with a fresh " + k.length() + "-byte authkey").orElse(" without a key"));
      out.flush();
      ProcessBuilder builder = new ProcessBuilder(
          python.toString(), "-c", BOOTSTRAP, address.path().toString())
          .redirectError(peerErrors.toFile());
      builder.environment().remove(KEY_VARIABLE);
      key.ifPresent(k -> builder.environment().put(KEY_VARIABLE, k.toHex()));
      builder.environment().put("PYTHONIOENCODING", "utf-8");
      Process peer = builder.start();
      try {
        talk(listener, peer, script, peerErrors);
        if (!peer.waitFor(PEER_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          throw new CommandFailure(
              "python peer did not exit within " + PEER_TIMEOUT.toSeconds() + " s");
        }
        if (peer.exitValue() != 0) throw peerFailed("python peer failed", peer, peerErrors);
        try (InputStream printed = peer.getInputStream()) {
          new String(printed.readAllBytes(), StandardCharsets.UTF_8)
              .lines().forEach(line -> out.println("python printed: " + line));
        }
        out.println("demo: done");
        out.flush();
        return 0;
      } finally {
        peer.destroyForcibly();
        peer.getInputStream().close();
        peer.getOutputStream().close();
      }
    } finally {
      Files.deleteIfExists(peerErrors);
      Files.deleteIfExists(address.path());
      Files.deleteIfExists(dir);
    }
  }

  /** Feeds the script, then holds the conversation; explains a failure by the peer's own words. */
  private void talk(Listener listener, Process peer, byte[] script, Path peerErrors)
      throws IOException, InterruptedException {
    try {
      try (OutputStream stdin = peer.getOutputStream()) {
        stdin.write(script);
      } catch (IOException e) {
        // The peer is gone already (a broken pipe); waiting below sees it exit and says so.
        LOG.log(System.Logger.Level.DEBUG, "writing the script to python", e);
      }
      List<Object> ready = Wait.ready(List.of(listener, peer), PEER_TIMEOUT);
      if (ready.isEmpty()) {
        throw new CommandFailure(
            "python peer did not connect within " + PEER_TIMEOUT.toSeconds() + " s");
      }
      if (!ready.contains(listener)) {
        throw peerFailed("python peer exited before connecting", peer, peerErrors);
      }
      try (Connection connection = listener.accept()) {
        converse(connection);
      }
    } catch (IOException e) {
      // Most likely the peer died: its stderr says more than a broken pipe does.
      if (peer.waitFor(5, TimeUnit.SECONDS) && peer.exitValue() != 0) {
        throw peerFailed("python peer failed", peer, peerErrors);
      }
      throw e;
    }
  }

  /**
   * Python sends several messages and Java acknowledges each one, until Python says "bye"; then
   * Java sends a greeting that Python prints. Then the two exchange objects.
   */
  private void converse(Connection connection) throws IOException {
    PrintWriter out = context.out();
    int acks = 0;
    while (true) {
      byte[] message = connection.receiveBytes();
      String text = MessageCodec.render(message);
      out.println("python -> java: " + text);
      if (text.equals("bye")) break;
      acks++;
      String ack = "ack " + acks + ": " + message.length + " bytes";
      connection.sendBytes(ack.getBytes(StandardCharsets.UTF_8));
      out.println("java -> python: " + ack);
      out.flush();
    }
    String greeting = "hello from java " + Runtime.version().feature() + " via ferry "
        + VersionProvider.version();
    connection.sendBytes(greeting.getBytes(StandardCharsets.UTF_8));
    out.println("java -> python: " + greeting);
    out.flush();
    exchangeObjects(connection);
  }

  /**
   * Objects, pickled: Python sends its version, Java answers with an object in a protocol that
   * version reads, then prints what Python sends until it says "bye": a dict, and a numpy array
   * when Python has numpy.
   */
  private void exchangeObjects(Connection connection) throws IOException {
    PrintWriter out = context.out();
    Object version = connection.receive(PickleCodec.standard());
    out.println("python -> java: " + PyRepr.of(version));
    String pythonVersion = pythonVersion(version);
    PickleCodec codec = PickleCodec.builder().peer(pythonVersion).build();
    out.println("demo: objects from here on, pickled with protocol " + codec.protocol()
        + " for python " + pythonVersion);
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("text", "hello from java");
    value.put("nested", List.of(1, 2, List.of(3, 4)));
    value.put("bytes", new byte[] {0, 1, (byte) 0xfe, (byte) 0xff});
    value.put("big", BigInteger.TWO.pow(100));
    connection.send(value, codec);
    out.println("java -> python: " + PyRepr.of(value));
    out.flush();
    while (true) {
      Object received = connection.receive(codec);
      String shown = PyRepr.of(received);
      if (received instanceof NdArray array) shown += " with values " + PyRepr.elements(array);
      out.println("python -> java: " + shown);
      out.flush();
      if ("bye".equals(received)) return;
    }
  }

  /** {@code "3.11"} from Python's {@code sys.version_info[:2]}. */
  private static String pythonVersion(Object versionInfo) {
    if (versionInfo instanceof PyTuple tuple && tuple.size() == 2
        && tuple.get(0) instanceof Integer major && tuple.get(1) instanceof Integer minor) {
      return major + "." + minor;
    }
    throw new CommandFailure("python peer sent no version: " + PyRepr.of(versionInfo));
  }

  private static CommandFailure peerFailed(String what, Process peer, Path peerErrors)
      throws IOException {
    String lastLine = Files.exists(peerErrors)
        ? Files.readAllLines(peerErrors, StandardCharsets.UTF_8).stream()
            .filter(line -> !line.isBlank()).reduce((a, b) -> b).orElse("no message")
        : "no message";
    return new CommandFailure(
        what + " (exit " + peer.exitValue() + "): " + lastLine.strip());
  }

  private static byte[] script() throws IOException {
    try (InputStream in = DemoCommand.class.getResourceAsStream("demo_peer.py")) {
      if (in == null) throw new IOException("demo_peer.py missing from the jar");
      return in.readAllBytes();
    }
  }
}
