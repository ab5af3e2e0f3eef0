package dev.ferry;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.internal.transport.Deadlines;
import dev.ferry.internal.transport.TlsTransport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The TLS transport on its own: what sits inside it, and what waits to leave it. */
@ExtendWith(LeakCheck.class)
@Timeout(60)
class TlsTransportTest {
  private TlsTransport client;
  private TlsTransport server;

  @BeforeEach
  void connect() throws IOException {
    try (ServerSocketChannel listening = ServerSocketChannel.open()) {
      listening.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = ((InetSocketAddress) listening.getLocalAddress()).getPort();
      SocketChannel a = SocketChannel.open(listening.getLocalAddress());
      SocketChannel b = listening.accept();
      client = TlsTransport.client(a, TestTls.client(), "127.0.0.1", port, "test client");
      server = TlsTransport.server(b, TestTls.server(), true, "test server");
    }
    long deadline = Deadlines.after(Duration.ofSeconds(20));
    // Both ends on this thread: step each in turn until both are done.
    while (client.handshakeStep() != TlsTransport.Step.DONE
        | server.handshakeStep() != TlsTransport.Step.DONE) {
      assertTrue(Deadlines.remaining(deadline) > 0, "handshake did not finish");
      Thread.onSpinWait();
    }
  }

  @AfterEach
  void close() throws IOException {
    client.close();
    server.close();
  }

  @Test
  void plaintextLeftInsideCountsAsInputTheSocketNoLongerAnnounces() throws Exception {
    client.writeFully(ByteBuffer.wrap("first".getBytes(UTF_8)));
    client.writeFully(ByteBuffer.wrap("second".getBytes(UTF_8)));
    // Read 3 bytes: the records of both writes come in with the first read and stay inside.
    ByteBuffer three = ByteBuffer.allocate(3);
    long deadline = Deadlines.after(Duration.ofSeconds(10));
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    while (got.size() < 3) {
      three.clear();
      int n = server.readWithin(three, deadline);
      assertTrue(n > 0);
      got.write(three.array(), 0, n);
    }
    assertEquals("fir", got.toString(UTF_8));
    // Wait for the second record to be read out of the socket too, then look: the socket is
    // quiet, yet the transport holds "st" and "second".
    ByteBuffer rest = ByteBuffer.allocate(100);
    try (Selector selector = Selector.open()) {
      SelectionKey key = server.channel().register(selector, SelectionKey.OP_READ);
      assertEquals(0, selector.selectNow(), "the socket should be drained by the first read");
      assertTrue(server.hasBufferedInput());
      key.cancel();
    }
    while (rest.position() < "stsecond".length()) {
      assertTrue(server.readWithin(rest, deadline) > 0);
    }
    assertEquals("stsecond", new String(rest.array(), 0, rest.position(), UTF_8));
    assertFalse(server.hasBufferedInput());
    assertEquals(0, server.readNow(rest.clear()));
  }

  @Test
  void closeNotifyIsEndOfStreamAndCountsAsBufferedInput() throws Exception {
    client.writeFully(ByteBuffer.wrap("bye".getBytes(UTF_8)));
    client.close();
    ByteBuffer buffer = ByteBuffer.allocate(100);
    long deadline = Deadlines.after(Duration.ofSeconds(10));
    int n;
    while ((n = server.readWithin(buffer, deadline)) > 0) {
      assertTrue(buffer.position() <= 3);
    }
    assertEquals(-1, n);
    assertEquals("bye", new String(buffer.array(), 0, buffer.position(), UTF_8));
    assertTrue(server.hasBufferedInput());
    assertEquals(-1, server.readNow(buffer));
  }

  @Test
  void recordsThatTheFullSocketRefusesWaitInsideUntilAnEmptyWriteSendsThem() throws Exception {
    byte[] data = new byte[8 << 20];
    new Random(1).nextBytes(data);
    ByteBuffer src = ByteBuffer.wrap(data);
    // Write without waiting until the socket is full and some records wait inside.
    boolean sawPending = false;
    while (src.hasRemaining()) {
      client.writeNow(src);
      if (client.hasPendingOutput()) {
        sawPending = true;
        break;
      }
    }
    assertTrue(sawPending, "8 MiB should fill the socket");
    // Read everything while flushing with empty writes, as an event loop does when writable.
    ByteBuffer received = ByteBuffer.allocate(data.length);
    ByteBuffer none = ByteBuffer.allocate(0);
    long deadline = Deadlines.after(Duration.ofSeconds(30));
    while (received.hasRemaining()) {
      assertTrue(Deadlines.remaining(deadline) > 0, "stalled at " + received.position());
      if (src.hasRemaining() || client.hasPendingOutput()) {
        client.writeNow(src.hasRemaining() ? src : none);
      }
      int n = server.readNow(received);
      assertTrue(n >= 0);
    }
    assertFalse(client.hasPendingOutput());
    assertArrayEquals(data, received.array());
  }
}
