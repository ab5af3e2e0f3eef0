package dev.ferry.cli;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.Pipe;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import picocli.CommandLine.Command;

@Command(
    name = "selftest",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Check that every transport works on this machine.",
        "",
        "Prints one line per check, 'NAME: ok' or 'NAME: failed: REASON', and exits 0 if all "
            + "are ok, else 1.",
        ""})
final class SelftestCommand implements Callable<Integer> {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final byte[] PING = "ping".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PONG = "pong".getBytes(StandardCharsets.UTF_8);

  private final CliContext context;

  SelftestCommand(CliContext context) {
    this.context = context;
  }

  /** A check that returns normally when all is well and throws what went wrong otherwise. */
  private interface Check {
    void run() throws Exception;
  }

  @Override
  public Integer call() {
    Map<String, Check> checks = new LinkedHashMap<>();
    checks.put("socket pair round trip", SelftestCommand::socketPair);
    checks.put("unix path", SelftestCommand::unixPath);
    checks.put("abstract name",
        () -> viaListener(new Address.Abstract("ferry-selftest-" + UUID.randomUUID())));
    checks.put("tcp v4", () -> viaListener(new Address.Tcp("127.0.0.1", 0)));
    checks.put("tcp v6", () -> viaListener(new Address.Tcp("::1", 0)));

    PrintWriter out = context.out();
    boolean allOk = true;
    for (Map.Entry<String, Check> check : checks.entrySet()) {
      String result;
      try {
        check.getValue().run();
        result = "ok";
      } catch (Exception e) {
        allOk = false;
        result = "failed: " + Failures.describe(e);
      }
      out.println(check.getKey() + ": " + result);
      out.flush();
    }
    return allOk ? 0 : 1;
  }

  private static void socketPair() throws IOException {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      roundTrip(pipe.first(), pipe.second());
    }
  }

  private static void unixPath() throws Exception {
    Path dir = Files.createTempDirectory("ferry-selftest-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    try {
      viaListener(new Address.Unix(dir.resolve("s")));
    } finally {
      Files.deleteIfExists(dir.resolve("s"));
      Files.delete(dir);
    }
  }

  private static void viaListener(Address address) throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().connectTimeout(TIMEOUT).build();
    Listener listener = Listener.bind(address, options);
    FutureTask<Connection> accepted = new FutureTask<>(() -> listener.accept(TIMEOUT));
    Thread acceptor = new Thread(accepted, "ferry-selftest-accept");
    acceptor.start();
    try (Connection client = Client.connect(listener.address(), options);
        Connection server = accepted.get()) {
      roundTrip(client, server);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } finally {
      listener.close(); // wakes the acceptor if the connect failed
      joinUninterruptibly(acceptor);
    }
  }

  private static void roundTrip(Connection a, Connection b) throws IOException {
    a.sendBytes(PING);
    expect(PING, b.receiveBytes());
    b.sendBytes(PONG);
    expect(PONG, a.receiveBytes());
  }

  private static void expect(byte[] expected, byte[] actual) throws IOException {
    if (!Arrays.equals(expected, actual)) {
      throw new IOException("sent " + new String(expected, StandardCharsets.UTF_8)
          + " but received " + MessageCodec.render(actual));
    }
  }

  private static void joinUninterruptibly(Thread thread) throws InterruptedIOException {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted during selftest");
    }
  }
}
