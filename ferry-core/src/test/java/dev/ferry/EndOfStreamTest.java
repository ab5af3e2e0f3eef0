package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * junixsocket's non-blocking read reports the end of a Unix stream as 0 bytes, not -1. Found by
 * FrameFuzzTest: a zero-timeout poll never saw it, and the accept loop spun on a client that
 * closed half-way through its handshake until the handshake timeout.
 */
@ExtendWith(LeakCheck.class)
class EndOfStreamTest {
  @TempDir Path dir;

  @Test
  void zeroTimeoutPollSeesTheEndOfAUnixStream() throws Exception {
    try (RawPeer peer = RawPeer.open()) {
      peer.closeRaw();
      assertTrue(peer.endpoint.poll(), "end of stream is readable (Python: poll() is True)");
      assertThrows(EOFException.class, peer.endpoint::receiveBytes);
    }
  }

  @Test
  void unixClientClosingHalfWayThroughItsHandshakeFailsAtOnce() throws Exception {
    ConnectionOptions options = ConnectionOptions.builder().authKey(AuthKey.fromHex("0102"))
        .handshakeTimeout(Duration.ofSeconds(60)).build();
    try (Listener listener = Listener.bind(new Address.Unix(dir.resolve("s")), options)) {
      try (AFUNIXSocketChannel c = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(dir.resolve("s")))) {
        readChallenge(c);
        c.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 40, 1, 2})); // half a response
      }
      // Not after the 60 s handshake timeout: the loop sees the end of the stream now.
      FramingException e = assertThrows(FramingException.class,
          () -> listener.accept(Duration.ofSeconds(20)));
      assertTrue(e.getMessage().contains("end of file"), e.getMessage());
      try (AFUNIXSocketChannel c = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(dir.resolve("s")))) {
        readChallenge(c);
        c.shutdownOutput(); // nothing at all
        assertThrows(EOFException.class, () -> listener.accept(Duration.ofSeconds(20)));
      }
    }
  }

  private static void readChallenge(AFUNIXSocketChannel c) throws java.io.IOException {
    ByteBuffer challenge = ByteBuffer.allocate(4 + 59);
    while (challenge.hasRemaining()) {
      if (c.read(challenge) < 0) throw new EOFException();
    }
  }
}
