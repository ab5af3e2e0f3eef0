package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real peer processes ({@link FaultPeer}) killed with SIGKILL mid-message and mid-handshake, a
 * half-closed peer and a peer that stops reading. The survivor must see the end within a second
 * (a generous bound, there to fail instead of hanging), lose no message it was told was sent,
 * and leak nothing (LeakCheck).
 */
@ExtendWith(LeakCheck.class)
class FaultTest {
  private static final Duration BOUND = Duration.ofSeconds(1);

  /** A running FaultPeer and its stdout lines. */
  private static final class Peer implements AutoCloseable {
    final Process process;
    final BufferedReader out;

    Peer(String mode, Address address) throws IOException {
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> command = new ArrayList<>(List.of(java, "-Xmx64m",
          "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
          FaultPeer.class.getName(), mode, address.toString()));
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    String line() throws Exception {
      return TestThreads.supply(() -> {
        try {
          return out.readLine();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).get(30, TimeUnit.SECONDS);
    }

    void awaitReady() throws Exception {
      assertEquals("ready", line());
    }

    void send(String line) throws IOException {
      Writer in = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
      in.write(line + "\n");
      in.flush();
    }

    @Override
    public void close() throws Exception {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
      process.getInputStream().close();
      process.getOutputStream().close();
      process.getErrorStream().close();
    }
  }

  private static Listener listen(String transport, ConnectionOptions options) throws IOException {
    return transport.equals("unix") ? Listener.bindPrivate(options)
        : Listener.bind(new Address.Tcp("127.0.0.1", 0), options);
  }

  /** Runs {@code action} and returns how long it took to fail, asserting it did within BOUND. */
  private static <T extends Throwable> T failsWithin(Class<T> type, CompletableFuture<?> action)
      throws Exception {
    try {
      action.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      return assertInstanceOf(type, e.getCause());
    }
    throw new AssertionError("no failure");
  }

  private static <T> CompletableFuture<T> async(java.util.concurrent.Callable<T> call) {
    return TestThreads.supply(() -> {
      try {
        return call.call();
      } catch (Exception e) {
        throw new java.util.concurrent.CompletionException(e);
      }
    });
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void peerKilledMidMessageIsAFramingErrorWithinASecond(String transport) throws Exception {
    try (Listener listener = listen(transport, ConnectionOptions.defaults());
        Peer peer = new Peer("mid-message", listener.address());
        Connection c = listener.accept(Duration.ofSeconds(30))) {
      peer.awaitReady();
      CompletableFuture<byte[]> receiving = async(c::receiveBytes);
      Thread.sleep(50); // let the receiver block on the missing bytes; holds either way
      long start = System.nanoTime();
      peer.process.destroyForcibly();
      FramingException e = failsWithin(FramingException.class, receiving);
      assertEquals("got end of file during message", e.getMessage());
      System.out.printf("[fault] %s: killed mid-message, survivor saw it after %.1f ms%n",
          transport, (System.nanoTime() - start) / 1e6);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void cpythonPeerKilledMidMessageIsAFramingErrorWithinASecond(String transport) throws Exception {
    java.nio.file.Path python = Pythons.require("3.13");
    java.nio.file.Path script = Pythons.script("/python/dying_peer.py");
    AuthKey key = AuthKey.fromHex("c0ffee");
    ConnectionOptions options = ConnectionOptions.builder().authKey(key).build();
    try (Listener listener = listen(transport, options)) {
      String where = listener.address() instanceof Address.Unix unix ? unix.path().toString()
          : String.valueOf(((Address.Tcp) listener.address()).port());
      Process process = new ProcessBuilder(python.toString(), script.toString(), transport, where,
          "c0ffee").redirectError(ProcessBuilder.Redirect.INHERIT).start();
      try (Connection c = listener.accept(Duration.ofSeconds(30));
          BufferedReader out = Pythons.lines(process)) {
        assertEquals("ready", out.readLine());
        CompletableFuture<byte[]> receiving = async(c::receiveBytes);
        long start = System.nanoTime();
        process.destroyForcibly();
        FramingException e = failsWithin(FramingException.class, receiving);
        assertEquals("got end of file during message", e.getMessage());
        System.out.printf("[fault] %s: cpython 3.13 killed mid-message, survivor saw it after"
            + " %.1f ms%n", transport, (System.nanoTime() - start) / 1e6);
      } finally {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        process.getOutputStream().close();
        process.getErrorStream().close();
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void peerKilledMidHandshakeFailsThatHandshakeOnlyWithinASecond(String transport)
      throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().authKey(AuthKey.fromHex("abcd"))
        .handshakeTimeout(Duration.ofSeconds(60)).build();
    try (Listener listener = listen(transport, options);
        Peer peer = new Peer("mid-handshake", listener.address())) {
      peer.awaitReady();
      CompletableFuture<Connection> accepting = async(() -> listener.accept(Duration.ofSeconds(60)));
      long start = System.nanoTime();
      peer.process.destroyForcibly();
      failsWithin(FramingException.class, accepting);
      System.out.printf("[fault] %s: killed mid-handshake, accept() failed after %.1f ms%n",
          transport, (System.nanoTime() - start) / 1e6);
      // The listener is still fine.
      try (Connection good = Client.connect(listener.address(), options);
          Connection served = listener.accept(Duration.ofSeconds(10))) {
        good.sendBytes(new byte[] {5});
        assertEquals(5, served.receiveBytes()[0]);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void serverKilledMidHandshakeFailsTheClientWithinASecond(String transport,
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    Address where = transport.equals("unix") ? new Address.Unix(dir.resolve("server.sock"))
        : new Address.Tcp("127.0.0.1", 0);
    ConnectionOptions options = ConnectionOptions.builder().authKey(AuthKey.fromHex("abcd"))
        .handshakeTimeout(Duration.ofSeconds(60)).build();
    try (Peer server = new Peer("server-mid-handshake", where)) {
      Address address = Address.parse(server.line());
      CompletableFuture<Connection> connecting = async(() -> Client.connect(address, options));
      server.awaitReady(); // it has sent half a challenge
      long start = System.nanoTime();
      server.process.destroyForcibly();
      FramingException e = failsWithin(FramingException.class, connecting);
      assertEquals("got end of file during message", e.getMessage());
      System.out.printf("[fault] %s: server killed mid-handshake, client failed after %.1f ms%n",
          transport, (System.nanoTime() - start) / 1e6);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void halfClosedPeerEndsOurReadsButStillReceives(String transport) throws Exception {
    try (Listener listener = listen(transport, ConnectionOptions.defaults());
        Peer peer = new Peer("half-close", listener.address());
        Connection c = listener.accept(Duration.ofSeconds(30))) {
      peer.awaitReady();
      for (int i = 0; i < 3; i++) assertEquals("m" + i, new String(c.receiveBytes(), StandardCharsets.UTF_8));
      assertThrows(java.io.EOFException.class, c::receiveBytes);
      assertTrue(c.poll(), "end of stream stays readable");
      c.sendBytes("after your end".getBytes(StandardCharsets.UTF_8));
      assertEquals("got after your end", peer.line());
      c.close();
      assertEquals("end", peer.line());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void closeUnblocksASenderStuckOnAPeerThatStoppedReadingAndLosesNothing(String transport)
      throws Exception {
    try (Listener listener = listen(transport, ConnectionOptions.defaults());
        Peer peer = new Peer("stall-then-drain", listener.address())) {
      Connection c = listener.accept(Duration.ofSeconds(30));
      peer.awaitReady();
      AtomicLong sent = new AtomicLong();
      byte[] message = new byte[100_000];
      CompletableFuture<Long> sending = async(() -> {
        while (true) {
          c.sendBytes(message);
          sent.incrementAndGet(); // only once the send returned: the message is the kernel's
        }
      });
      // Wait until the sender is stuck: no progress for 300 ms.
      long last = -1;
      while (sent.get() != last) {
        last = sent.get();
        Thread.sleep(300);
      }
      c.close();
      ConnectionClosedException e = failsWithin(ConnectionClosedException.class, sending);
      assertEquals("connection is closed", e.getMessage());
      peer.send("drain");
      String report = peer.line();
      assertTrue(report.startsWith("received " + sent.get() + " then "),
          report + ", but " + sent.get() + " sends returned");
      System.out.printf("[fault] %s: sender blocked after %d messages of 100 kB; close()"
          + " unblocked it; the peer then read all %d%n", transport, sent.get(), sent.get());
    }
  }
}
