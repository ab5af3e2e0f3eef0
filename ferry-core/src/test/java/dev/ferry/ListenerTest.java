package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

@ExtendWith(LeakCheck.class)
class ListenerTest {
  private static final AuthKey KEY = AuthKey.fromHex("00112233445566778899");

  @TempDir Path dir;

  private static ConnectionOptions withKey(AuthKey key, Duration handshakeTimeout) {
    return ConnectionOptions.builder().authKey(key).handshakeTimeout(handshakeTimeout).build();
  }

  /**
   * The handshake reads and writes through 64 KiB direct buffers; an authenticated connection that
   * then sits idle must not keep them (10,000 idle connections would hold 1.3 GB of native memory).
   */
  @Test
  void idleAuthenticatedConnectionsHoldNoDirectBuffers() throws Exception {
    int count = 50;
    ConnectionOptions options = withKey(KEY, Duration.ofSeconds(10));
    List<Connection> open = new ArrayList<>();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("idle.sock")), options)) {
      long before = DirectMemory.usedAfterGc();
      for (int i = 0; i < count; i++) {
        open.add(Client.connect(listener.address(), options));
        open.add(listener.accept(Duration.ofSeconds(10)));
      }
      long grown = DirectMemory.usedAfterGc() - before;
      assertTrue(grown < count * 2 * 8 * 1024L,
          "direct memory grew by " + grown + " bytes for " + count * 2 + " idle ends");
      // Still fully usable: the buffers come back on demand.
      open.get(0).sendBytes(new byte[100_000]);
      assertEquals(100_000, open.get(1).receiveBytes().length);
    } finally {
      for (Connection c : open) c.close();
    }
  }

  /**
   * Trimming drops the handshake's buffers, but a dropped direct buffer gives its native memory
   * back only at a garbage collection: a server that accepts thousands of clients between two
   * collections grew by 16 KiB for each. The accept loop's handshakes read through one buffer of
   * the loop's and write from heap frames, so an accepted end allocates no direct memory at all.
   * The clients are CPython's, so that only the accepting side's memory counts.
   */
  @Test
  void acceptedConnectionsAllocateNoDirectMemoryForTheirHandshake() throws Exception {
    int count = 100;
    ConnectionOptions options = withKey(KEY, Duration.ofSeconds(10));
    Path socket = dir.resolve("lean.sock");
    List<Connection> open = new ArrayList<>();
    String clients = String.join("\n",
        "import sys",
        "from multiprocessing.connection import Client",
        "key = bytes.fromhex(sys.argv[2])",
        "conns = [Client(sys.argv[1], authkey=key) for _ in range(int(sys.argv[3]))]",
        "print('connected', flush=True)",
        "sys.stdin.read()",
        "");
    try (Listener listener = Listener.bind(new Address.Unix(socket), options)) {
      long before = DirectMemory.used();
      Process python = new ProcessBuilder(Pythons.require("3.13").toString(), "-c", clients,
          socket.toString(), KEY.toHex(), Integer.toString(count)).redirectErrorStream(true).start();
      try {
        for (int i = 0; i < count; i++) open.add(listener.accept(Duration.ofSeconds(10)));
        long grown = DirectMemory.used() - before;
        assertTrue(grown < count * 1024L,
            "direct memory grew by " + grown + " bytes for " + count + " accepted ends");
        assertEquals("connected", Pythons.lines(python).readLine());
      } finally {
        python.getOutputStream().close();
        assertTrue(python.waitFor(10, TimeUnit.SECONDS));
      }
    } finally {
      for (Connection c : open) c.close();
    }
  }

  @Test
  void namesAnAddressThisHostDoesNotHaveInsteadOfCallingItBusy() {
    // 192.0.2.0/24 is reserved for documentation: no host has it, and binding sends nothing.
    BindException e = assertThrows(BindException.class,
        () -> Listener.bind(Address.parse("tcp:192.0.2.1:0"), withKey(KEY, Duration.ofSeconds(1))));
    assertEquals("cannot listen on tcp:192.0.2.1:0: Cannot assign requested address",
        e.getMessage());
  }

  @Test
  void reportsBoundPortAndRemovesSocketFileOnClose() throws Exception {
    try (Listener tcp = Listener.bind(Address.parse("tcp:127.0.0.1:0"))) {
      Address.Tcp bound = (Address.Tcp) tcp.address();
      assertTrue(bound.port() > 0);
      assertEquals("tcp:127.0.0.1:" + bound.port(), bound.toString());
    }
    Path file = dir.resolve("l.sock");
    Listener unix = Listener.bind(new Address.Unix(file));
    assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(file));
    unix.close();
    assertFalse(Files.exists(file));
    unix.close(); // idempotent
  }

  @Test
  void refusesASecondListenerOnALiveAddressAndNeverRemovesAnExistingFile() throws Exception {
    Path file = dir.resolve("l.sock");
    try (Listener first = Listener.bind(new Address.Unix(file))) {
      BindException e = assertThrows(BindException.class,
          () -> Listener.bind(new Address.Unix(file)));
      assertEquals("address already in use: unix:" + file, e.getMessage());
      assertTrue(Files.exists(file), "the live listener keeps its file");
    }
    Path plain = dir.resolve("notes.txt");
    Files.writeString(plain, "keep me");
    assertThrows(BindException.class, () -> Listener.bind(new Address.Unix(plain)));
    assertEquals("keep me", Files.readString(plain));
    try (Listener tcp = Listener.bind(Address.parse("tcp:127.0.0.1:0"))) {
      assertThrows(BindException.class, () -> Listener.bind(tcp.address()));
    }
  }

  @Test
  void closeWakesABlockedAccept() throws Exception {
    Listener listener = Listener.bind(new Address.Abstract("ferry-listener-" + System.nanoTime()));
    CompletableFuture<Throwable> accepting = CompletableFuture.supplyAsync(() -> {
      try {
        listener.accept();
        return null;
      } catch (Throwable t) {
        return t;
      }
    });
    Thread.sleep(50); // let it block; the assertions hold either way
    listener.close();
    Throwable t = accepting.get(5, TimeUnit.SECONDS);
    assertTrue(t instanceof ConnectionClosedException, "got " + t);
    assertEquals("listener is closed", t.getMessage());
    assertThrows(ConnectionClosedException.class, listener::accept);
  }

  @Test
  void acceptGivesUpAfterItsTimeout() throws Exception {
    try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"))) {
      SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
          () -> listener.accept(Duration.ofMillis(50)));
      assertTrue(e.getMessage().startsWith("accept timed out on tcp:127.0.0.1:"), e.getMessage());
    }
  }

  @Test
  void silentClientTimesOutItsHandshakeAndTheListenerStaysUsable() throws Exception {
    Path file = dir.resolve("l.sock");
    try (Listener listener = Listener.bind(new Address.Unix(file), withKey(KEY, Duration.ofMillis(200)));
        AFUNIXSocketChannel silent = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(file))) {
      SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
          () -> listener.accept(Duration.ofSeconds(5)));
      assertEquals("handshake timed out after 200 ms on unix:" + file, e.getMessage());
      assertGoodClientIsServed(listener);
    }
  }

  @Test
  void silentClientsDoNotHoldUpAGoodOne() throws Exception {
    Path file = dir.resolve("l.sock");
    List<AFUNIXSocketChannel> silent = new ArrayList<>();
    try (Listener listener = Listener.bind(new Address.Unix(file), withKey(KEY, Duration.ofSeconds(60)))) {
      for (int i = 0; i < 50; i++) silent.add(AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(file)));
      // Each silent client would hold CPython's accept() forever; here they wait on their own.
      CompletableFuture<Connection> server = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(), withKey(KEY, Duration.ofSeconds(10)));
          Connection s = server.get(10, TimeUnit.SECONDS)) {
        c.sendBytes(new byte[] {5});
        assertEquals(5, s.receiveBytes()[0]);
      }
    } finally {
      for (AFUNIXSocketChannel c : silent) c.close();
    }
  }

  @Test
  void closingClosesConnectionsNobodyAccepted() throws Exception {
    Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"), withKey(KEY, Duration.ofSeconds(5)));
    try (Connection c = Client.connect(listener.address(), withKey(KEY, Duration.ofSeconds(5)))) {
      assertEquals(List.of(listener), Wait.ready(List.of(listener), Duration.ofSeconds(5)));
      listener.close();
      assertThrows(EOFException.class, c::receiveBytes);
    }
  }

  @Test
  void wrongKeyFailsBothSidesAndTheListenerStaysUsable() throws Exception {
    try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"),
        withKey(KEY, Duration.ofSeconds(5)))) {
      CompletableFuture<Throwable> server = CompletableFuture.supplyAsync(() -> {
        try {
          listener.accept(Duration.ofSeconds(5)).close();
          return null;
        } catch (Throwable t) {
          return t;
        }
      });
      AuthenticationException client = assertThrows(AuthenticationException.class,
          () -> Client.connect(listener.address(), withKey(AuthKey.random(), Duration.ofSeconds(5))));
      assertEquals("digest sent was rejected", client.getMessage());
      Throwable t = server.get(5, TimeUnit.SECONDS);
      assertTrue(t instanceof AuthenticationException, "got " + t);
      assertEquals("digest received was wrong", t.getMessage());
      assertGoodClientIsServed(listener);
    }
  }

  @Test
  void emptyKeyAuthenticatesAsPython313Does() throws Exception {
    AuthKey empty = AuthKey.of(new byte[0]);
    try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"),
        withKey(empty, Duration.ofSeconds(5)))) {
      CompletableFuture<Connection> server = acceptLater(listener);
      try (Connection c = Client.connect(listener.address(), withKey(empty, Duration.ofSeconds(5)));
          Connection s = server.get(5, TimeUnit.SECONDS)) {
        c.sendBytes(new byte[] {42});
        assertEquals(42, s.receiveBytes()[0]);
      }
    }
  }

  @Test
  void clientWithKeyTimesOutAgainstListenerWithout() throws Exception {
    // CPython's client hangs forever here (python/cpython#123736).
    try (Listener listener = Listener.bind(Address.parse("tcp:127.0.0.1:0"))) {
      CompletableFuture<Connection> server = acceptLater(listener);
      SocketTimeoutException e = assertThrows(SocketTimeoutException.class,
          () -> Client.connect(listener.address(), withKey(KEY, Duration.ofMillis(200))));
      assertEquals("handshake timed out after 200 ms with " + listener.address(), e.getMessage());
      server.get(5, TimeUnit.SECONDS).close();
    }
  }

  @Test
  void clientNamesTheAddressItCouldNotReach() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ConnectException refused = assertThrows(ConnectException.class,
        () -> Client.connect(Address.parse("tcp:127.0.0.1:" + port)));
    assertEquals("connection refused: tcp:127.0.0.1:" + port, refused.getMessage());
    Path missing = dir.resolve("missing.sock");
    ConnectException nofile = assertThrows(ConnectException.class,
        () -> Client.connect(new Address.Unix(missing)));
    assertEquals("no such socket file: unix:" + missing, nofile.getMessage());
    ConnectException noname = assertThrows(ConnectException.class,
        () -> Client.connect(new Address.Abstract("ferry-nobody-" + System.nanoTime())));
    assertTrue(noname.getMessage().startsWith("connection refused: unix:@ferry-nobody-"),
        noname.getMessage());
  }

  @Test
  void refusesUnauthenticatedNetworkListenerUnlessAskedTo() throws Exception {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Listener.bind(Address.parse("tcp:0.0.0.0:0")));
    assertTrue(e.getMessage().startsWith("refusing to listen on tcp:0.0.0.0:0 without an authkey"),
        e.getMessage());
    try (Listener ok = Listener.bind(Address.parse("tcp:0.0.0.0:0"),
        ConnectionOptions.builder().allowUnauthenticatedNetwork().build())) {
      assertTrue(((Address.Tcp) ok.address()).port() > 0);
    }
  }

  private static void assertGoodClientIsServed(Listener listener) throws Exception {
    CompletableFuture<Connection> server = acceptLater(listener);
    try (Connection c = Client.connect(listener.address(), withKey(KEY, Duration.ofSeconds(5)));
        Connection s = server.get(5, TimeUnit.SECONDS)) {
      c.sendBytes(new byte[] {7});
      assertEquals(7, s.receiveBytes()[0]);
    }
  }

  /** Accepts on another thread, so the test can be the client. */
  private static CompletableFuture<Connection> acceptLater(Listener listener) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return listener.accept(Duration.ofSeconds(10));
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
  }
}
