package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.LeakCheck;
import dev.ferry.Listener;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LeakCheck.class)
class EchoCommandTest {
  private static final String KEY = "00112233445566778899aabbccddeeff";

  @TempDir
  Path dir;

  @Test
  void echoesEveryMessageBackUnchanged() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--max-connections", "1");
    assertEquals("unix:" + socket, echo.awaitListening());

    Cli.Result sent = Cli.run("send", "--address", "unix:" + socket, "hello", "wörld ✓", "");
    assertEquals(new Cli.Result(0, "hello\nwörld ✓\n\n", ""), sent);

    Cli.Result served = echo.awaitExit();
    assertEquals(new Cli.Result(0, "listening on unix:" + socket + "\n", ""), served);
    assertFalse(Files.exists(socket), "socket file left behind");
  }

  @Test
  void echoesTheSameWhileSpinningForTheNextMessage() throws Exception {
    String address = "unix:@ferry-test-" + UUID.randomUUID();
    Cli.Running echo = Cli.start("echo", "--address", address, "--max-connections", "1",
        "--receive-spin-us", "200");
    assertEquals(address, echo.awaitListening());

    Cli.Result sent = Cli.run("send", "--address", address, "one", "two", "three");
    assertEquals(new Cli.Result(0, "one\ntwo\nthree\n", ""), sent);
    assertEquals(new Cli.Result(0, "listening on " + address + "\n", ""), echo.awaitExit());
  }

  @Test
  void sendsEachLineOfStdinWhenNoMessageIsGiven() throws Exception {
    String address = "unix:@ferry-test-" + UUID.randomUUID();
    Cli.Running echo = Cli.start("echo", "--address", address, "--max-connections", "1");
    assertEquals(address, echo.awaitListening());

    Cli.Result sent = Cli.runWithInput("one\r\ntwo\n\nthree", "send", "--address", address);
    assertEquals(new Cli.Result(0, "one\ntwo\n\nthree\n", ""), sent);
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void reportsTheRealPortOfTcpPortZero() throws Exception {
    Cli.Running echo = Cli.start("echo", "--address", "tcp:127.0.0.1:0", "--max-connections", "1",
        "--codec", "utf8");
    String address = echo.awaitListening();
    assertTrue(address.matches("tcp:127\\.0\\.0\\.1:[1-9][0-9]*"), address);

    Cli.Result sent = Cli.run("send", "--address", address, "--codec", "utf8", "ping");
    assertEquals(new Cli.Result(0, "ping\n", ""), sent);
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void dropsClientSendingGarbageAndKeepsServingOthers() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--max-connections", "3");
    echo.awaitListening();

    try (Connection good = Client.connect(new Address.Unix(socket))) {
      // A raw client whose header claims a negative length: no sender may write that.
      try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        raw.connect(UnixDomainSocketAddress.of(socket));
        raw.write(ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xfe}));
        assertEquals("dropped client: negative message length: -2", echo.err.awaitLine());
        assertEquals(-1, raw.read(ByteBuffer.allocate(1)), "garbage client not closed");
      }
      good.sendBytes("still here".getBytes(StandardCharsets.UTF_8));
      assertEquals("still here", new String(good.receiveBytes(), StandardCharsets.UTF_8));
    }
    Cli.Result late = Cli.run("send", "--address", "unix:" + socket, "late");
    assertEquals(new Cli.Result(0, "late\n", ""), late);

    Cli.Result served = echo.awaitExit();
    assertEquals(0, served.exitCode());
    assertEquals("dropped client: negative message length: -2\n", served.err());
  }

  @Test
  void dropsClientSendingInvalidUtf8WithUtf8Codec() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--max-connections", "1",
        "--codec", "utf8");
    echo.awaitListening();
    try (Connection client = Client.connect(new Address.Unix(socket))) {
      client.sendBytes(new byte[] {'o', 'k', (byte) 0xc3});
      String line = echo.err.awaitLine();
      assertTrue(line.startsWith("dropped client: message is not valid utf-8"), line);
      assertThrows(EOFException.class, client::receiveBytes);
    }
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void sendFailsWithOneLineWhenPeerClosesBeforeReplying() throws Exception {
    Address address = new Address.Unix(dir.resolve("rude.sock"));
    try (Listener listener = Listener.bind(address)) {
      Thread rude = new Thread(() -> {
        try (Connection c = listener.accept()) {
          c.receiveBytes();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }, "test-rude-peer");
      rude.start();
      Cli.Result sent = Cli.run("send", "--address", address.toString(), "anyone?");
      rude.join();
      assertEquals(new Cli.Result(1, "",
          "connection closed by " + address + " before it replied\n"), sent);
    }
  }

  @Test
  void echoesWithMatchingKey() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--authkey-hex", KEY,
        "--max-connections", "1");
    echo.awaitListening();
    Cli.Result sent = Cli.run("send", "--address", "unix:" + socket, "--authkey-hex", KEY, "hi");
    assertEquals(new Cli.Result(0, "hi\n", ""), sent);
    assertEquals(new Cli.Result(0, "listening on unix:" + socket + "\n", ""), echo.awaitExit());
  }

  @Test
  void dropsClientWithWrongKeyAndKeepsServingOthers() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Cli.Running echo = Cli.start("echo", "--address", "unix:" + socket, "--authkey-hex", KEY,
        "--max-connections", "1");
    echo.awaitListening();

    Cli.Result wrong = Cli.run("send", "--address", "unix:" + socket, "--authkey-hex", "ff", "hi");
    assertEquals(new Cli.Result(1, "", "authentication failed: digest sent was rejected\n"), wrong);
    assertEquals("dropped client: digest received was wrong",
        echo.err.awaitLine());

    Cli.Result right = Cli.run("send", "--address", "unix:" + socket, "--authkey-hex", KEY, "hi");
    assertEquals(new Cli.Result(0, "hi\n", ""), right);
    assertEquals(0, echo.awaitExit().exitCode());
  }
}
