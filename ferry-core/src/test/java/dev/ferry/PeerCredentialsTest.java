package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LeakCheck.class)
class PeerCredentialsTest {
  private static final AuthKey KEY = AuthKey.fromHex("c0ffee");

  @TempDir Path dir;

  @Test
  void reportsThisProcessAsThePeerOnEveryUnixTransport() throws Exception {
    long pid = ProcessHandle.current().pid();
    long uid = PeerPolicy.currentUid();
    for (Transports t : new Transports[] {Transports.SOCKET_PAIR, Transports.UNIX_PATH,
        Transports.ABSTRACT_NAME}) {
      try (Transports.Pair pair = t.open(ConnectionOptions.defaults())) {
        PeerCredentials peer = pair.rightConnection().peerCredentials().orElseThrow();
        assertEquals(pid, peer.pid(), t.name());
        assertEquals(uid, peer.uid(), t.name());
        assertEquals(pair.leftConnection().peerCredentials(), Optional.of(peer), t.name());
      }
    }
    try (Transports.Pair pair = Transports.TCP_V4.open(ConnectionOptions.defaults())) {
      assertEquals(Optional.empty(), pair.rightConnection().peerCredentials());
    }
  }

  @Test
  void sameUserPolicyLetsThisUserThroughToTheHandshake() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().authKey(KEY)
        .peerPolicy(PeerPolicy.sameUser()).build();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("s")), options);
        Connection client = Client.connect(listener.address(), options);
        Connection server = listener.accept(Duration.ofSeconds(10))) {
      client.sendBytes(new byte[] {42});
      assertEquals(42, server.receiveBytes()[0]);
      assertEquals(PeerPolicy.currentUid(), server.peerCredentials().orElseThrow().uid());
    }
  }

  @Test
  void refusesAUidOutsideThePolicyBeforeTheHandshakeAndStaysUsable() throws Exception {
    long me = PeerPolicy.currentUid();
    long other = me == 0 ? 65534 : 0;
    ConnectionOptions strict = ConnectionOptions.builder().authKey(KEY)
        .peerPolicy(PeerPolicy.uids(other)).build();
    ConnectionOptions client = ConnectionOptions.builder().authKey(KEY)
        .handshakeTimeout(Duration.ofSeconds(10)).build();
    try (Listener listener = Listener.bind(new Address.Abstract("ferry-peer-" + System.nanoTime()),
        strict)) {
      // The client is closed before any challenge: it sees the end of the stream.
      IOException clientSide = assertThrows(IOException.class,
          () -> Client.connect(listener.address(), client).close());
      assertTrue(clientSide instanceof java.io.EOFException, clientSide.toString());
      PeerRefusedException refused = assertThrows(PeerRefusedException.class,
          () -> listener.accept(Duration.ofSeconds(10)));
      assertEquals("peer refused on " + listener.address() + ": uid " + me + " (pid "
          + ProcessHandle.current().pid() + ") is not in the allowed uids [" + other + "]",
          refused.getMessage());
      assertEquals(me, refused.credentials().uid());
      assertTrue(refused instanceof AuthenticationException);
      assertThrows(java.io.EOFException.class,
          () -> Client.connect(listener.address(), client).close());
      assertThrows(PeerRefusedException.class, () -> listener.accept(Duration.ofSeconds(10)));
    }
  }

  @Test
  void refusesAPolicyOnTcpAndAnEmptyUidSet() {
    ConnectionOptions options = ConnectionOptions.builder().peerPolicy(PeerPolicy.sameUser()).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Listener.bind(Address.parse("tcp:127.0.0.1:0"), options));
    assertEquals("a peer policy needs a unix socket, and tcp:127.0.0.1:0 is tcp: tcp peers carry"
        + " no credentials", e.getMessage());
    assertThrows(IllegalArgumentException.class, PeerPolicy::uids);
    assertThrows(IllegalArgumentException.class, () -> PeerPolicy.uids(-1));
  }
}
