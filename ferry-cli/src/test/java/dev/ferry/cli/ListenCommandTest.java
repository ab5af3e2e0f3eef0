package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.ferry.Address;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.LeakCheck;
import dev.ferry.codec.Codecs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LeakCheck.class)
class ListenCommandTest {
  @TempDir
  Path dir;

  @Test
  void printsEachMessageAsLineAndPayloadsThatAreNotUtf8AsHex() throws Exception {
    Path socket = dir.resolve("listen.sock");
    Cli.Running listen = Cli.start("listen", "--address", "unix:" + socket, "--max-connections", "2");
    listen.awaitListening();
    try (Connection client = Client.connect(new Address.Unix(socket))) {
      client.sendBytes("héllo".getBytes(StandardCharsets.UTF_8));
      client.sendBytes(new byte[] {0, 1, (byte) 0xfe, (byte) 0xff});
      client.sendBytes(new byte[0]);
      assertEquals("héllo", listen.out.awaitLine());
      assertEquals("hex:0001feff", listen.out.awaitLine());
      assertEquals("", listen.out.awaitLine());
      assertFalse(client.poll(), "listen must not reply");
    }
    try (Connection second = Client.connect(new Address.Unix(socket))) {
      second.send("from the second client", Codecs.utf8());
    }
    Cli.Result served = listen.awaitExit();
    assertEquals(0, served.exitCode());
    assertEquals("listening on unix:" + socket + "\nhéllo\nhex:0001feff\n\nfrom the second client\n",
        served.out());
    assertEquals("", served.err());
    assertFalse(Files.exists(socket));
  }

  @Test
  void dropsClientSendingInvalidUtf8WithUtf8Codec() throws Exception {
    Path socket = dir.resolve("listen.sock");
    Cli.Running listen = Cli.start("listen", "--address", "unix:" + socket, "--codec", "utf8",
        "--max-connections", "1");
    listen.awaitListening();
    try (Connection client = Client.connect(new Address.Unix(socket))) {
      client.sendBytes("fine".getBytes(StandardCharsets.UTF_8));
      client.sendBytes(new byte[] {(byte) 0xff});
      assertEquals("fine", listen.out.awaitLine());
      assertEquals("dropped client: message is not valid utf-8: Input length = 1",
          listen.err.awaitLine());
    }
    assertEquals(0, listen.awaitExit().exitCode());
  }
}
