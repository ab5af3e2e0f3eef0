package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.LeakCheck;
import java.lang.management.ManagementFactory;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ferry echo} with many clients at once: all served on the event loops, on a fixed few
 * threads, and none held up by another. A scaled-down form of the 5,000-client measurement
 * (docs/CLI.md): 300 clients and their server ends fit in this one process under any descriptor
 * limit of 1,024 or more.
 */
@ExtendWith(LeakCheck.class)
class EchoManyClientsTest {
  private static final String KEY = "00112233445566778899aabbccddeeff";
  private static final int CLIENTS = 300;
  /** The bound for 5,000 clients; a thread per client would add 300 here. */
  private static final int MAX_NEW_THREADS = 32;

  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"unix", "tcp"})
  void servesHundredsOfAuthenticatedClientsAtOnceOnAFewThreads(String kind) throws Exception {
    String bind = kind.equals("unix") ? "unix:" + dir.resolve("many.sock") : "tcp:127.0.0.1:0";
    int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
    Cli.Running echo = Cli.start("echo", "--address", bind, "--authkey-hex", KEY,
        "--max-connections", Integer.toString(CLIENTS));
    Address address = Address.parse(echo.awaitListening());
    ConnectionOptions options = ConnectionOptions.builder().authKey(AuthKey.fromHex(KEY)).build();
    List<Connection> clients = new ArrayList<>();
    try {
      for (int i = 0; i < CLIENTS; i++) clients.add(Client.connect(address, options));
      for (int i = 0; i < CLIENTS; i++) clients.get(i).sendBytes(message(i));
      for (int i = 0; i < CLIENTS; i++) {
        assertArrayEquals(message(i), clients.get(i).receiveBytes(), "echo of client " + i);
      }
      int threadsServing = ManagementFactory.getThreadMXBean().getThreadCount();
      assertTrue(threadsServing - threadsBefore <= MAX_NEW_THREADS, "echo serving " + CLIENTS
          + " clients added " + (threadsServing - threadsBefore) + " threads");
    } finally {
      for (Connection c : clients) c.close();
    }
    assertEquals(new Cli.Result(0, "listening on " + address + "\n", ""), echo.awaitExit());
  }

  @Test
  void aClientThatStopsReadingOrSendsHalfAHeaderDelaysNobody() throws Exception {
    Path socket = dir.resolve("stall.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket,
        "--max-connections", "3");
    Address address = Address.parse(echo.awaitListening());
    try (Connection stalled = Client.connect(address);
         SocketChannel halfHeader = SocketChannel.open(StandardProtocolFamily.UNIX);
         Connection lively = Client.connect(address)) {
      // Its echo (16 MiB) fills both socket buffers: the server's send to it cannot finish.
      stalled.sendBytes(new byte[16 << 20]);
      halfHeader.connect(UnixDomainSocketAddress.of(socket));
      halfHeader.write(ByteBuffer.wrap(new byte[] {0, 0}));
      for (int i = 0; i < 3; i++) {
        lively.sendBytes(message(i));
        assertArrayEquals(message(i), lively.receiveBytes());
      }
    }
    assertEquals(0, echo.awaitExit().exitCode());
  }

  private static byte[] message(int i) {
    return ("message " + i).getBytes(StandardCharsets.UTF_8);
  }
}
