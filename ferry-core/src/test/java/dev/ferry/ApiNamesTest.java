package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.internal.connection.FramedConnection;
import java.io.EOFException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The names a user porting from {@code multiprocessing.connection} reaches for: {@code fileno()},
 * {@code Listener.last_accepted}, {@code deliver_challenge} and {@code answer_challenge}.
 */
@ExtendWith(LeakCheck.class)
class ApiNamesTest {
  private static final AuthKey KEY = AuthKey.fromHex("6b6579");
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  @TempDir Path dir;

  @Test
  void pipeEndShowsTheDescriptorOfItsSocket() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      int fd = pipe.first().descriptor();
      assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString()
          .startsWith("socket:"));
      assertTrue(fd != pipe.second().descriptor());
    }
  }

  @Test
  void closedEndHasNoDescriptor() throws Exception {
    Pipe.Duplex pipe = Pipe.duplex();
    pipe.close();
    ConnectionClosedException e =
        assertThrows(ConnectionClosedException.class, () -> pipe.first().descriptor());
    assertEquals("connection is closed", e.getMessage());
  }

  @Test
  void tcpConnectionDoesNotShowItsDescriptor() throws Exception {
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0));
        Connection client = Client.connect(listener.address());
        Connection server = listener.accept(PATIENCE)) {
      UnsupportedOperationException e =
          assertThrows(UnsupportedOperationException.class, client::descriptor);
      assertTrue(e.getMessage().startsWith("no descriptor to show for "), e.getMessage());
    }
  }

  @Test
  void lastAcceptedIsEmptyBeforeTheFirstConnection() throws Exception {
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0))) {
      assertEquals(Optional.empty(), listener.lastAccepted());
    }
  }

  @Test
  void lastAcceptedIsTheTcpClientsAddressAndPort() throws Exception {
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0));
        Connection first = Client.connect(listener.address());
        Connection second = Client.connect(listener.address())) {
      try (Connection a = listener.accept(PATIENCE)) {
        Address expected = new Address.Tcp("127.0.0.1", localPort(first));
        Address got = listener.lastAccepted().orElseThrow();
        // Accept hands them out in the order their handshakes end: either may come first.
        Address other = new Address.Tcp("127.0.0.1", localPort(second));
        assertTrue(got.equals(expected) || got.equals(other), got.toString());
        try (Connection b = listener.accept(PATIENCE)) {
          Address next = listener.lastAccepted().orElseThrow();
          assertTrue(!next.equals(got), next + " again");
        }
      }
    }
  }

  @Test
  void lastAcceptedFollowsAcceptAsync() throws Exception {
    try (Listener listener = Listener.bind(new Address.Tcp("127.0.0.1", 0));
        Connection client = Client.connect(listener.address())) {
      CompletableFuture<Connection> accepted = listener.acceptAsync();
      try (Connection server = accepted.get(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
        assertEquals(Optional.of(new Address.Tcp("127.0.0.1", localPort(client))),
            listener.lastAccepted());
      }
    }
  }

  @Test
  void lastAcceptedIsEmptyForAUnixClientThatBoundNoName() throws Exception {
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("s")));
        Connection client = Client.connect(listener.address());
        Connection server = listener.accept(PATIENCE)) {
      assertEquals(Optional.empty(), listener.lastAccepted());
    }
  }

  @Test
  void challengesPassBothWaysWithTheSameKey() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
        try {
          Authentication.answerChallenge(pipe.second(), KEY);
          Authentication.deliverChallenge(pipe.second(), KEY);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      Authentication.deliverChallenge(pipe.first(), KEY);
      Authentication.answerChallenge(pipe.first(), KEY);
      other.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      pipe.first().sendBytes("after".getBytes(UTF_8));
      assertArrayEquals("after".getBytes(UTF_8), pipe.second().receiveBytes());
    }
  }

  @Test
  void wrongKeyFailsInCPythonsWordsAndLeavesTheConnectionOpen() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      CompletableFuture<String> answered = CompletableFuture.supplyAsync(() -> {
        try {
          Authentication.answerChallenge(pipe.second(), AuthKey.fromHex("00"));
          return "welcomed";
        } catch (Exception e) {
          return e.getMessage();
        }
      });
      AuthenticationException e = assertThrows(AuthenticationException.class,
          () -> Authentication.deliverChallenge(pipe.first(), KEY));
      assertEquals("digest received was wrong", e.getMessage());
      assertEquals("digest sent was rejected", answered.get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
      assertTrue(!pipe.first().isClosed() && !pipe.second().isClosed());
    }
  }

  @Test
  void answerRefusesAMessageThatIsNoChallenge() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      pipe.second().sendBytes("hello".getBytes(UTF_8));
      AuthenticationException e = assertThrows(AuthenticationException.class,
          () -> Authentication.answerChallenge(pipe.first(), KEY));
      assertEquals("Protocol error, expected challenge: message=b'hello'", e.getMessage());
    }
  }

  @Test
  void answerGivesUpAfterItsTimeout() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      assertThrows(SocketTimeoutException.class,
          () -> Authentication.answerChallenge(pipe.first(), KEY, Duration.ofMillis(50)));
    }
  }

  @Test
  void deliverReportsAPeerThatClosedInsteadOfAnswering() throws Exception {
    try (Pipe.Duplex pipe = Pipe.duplex()) {
      CompletableFuture<byte[]> challenge = CompletableFuture.supplyAsync(() -> {
        try (Connection peer = pipe.second()) {
          return peer.receiveBytes(); // then closes without an answer
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      assertThrows(EOFException.class, () -> Authentication.deliverChallenge(pipe.first(), KEY));
      assertEquals(59, challenge.get(PATIENCE.toSeconds(), TimeUnit.SECONDS).length);
    }
  }

  private static int localPort(Connection c) throws Exception {
    return ((InetSocketAddress) ((FramedConnection) c).channel().getLocalAddress()).getPort();
  }
}
