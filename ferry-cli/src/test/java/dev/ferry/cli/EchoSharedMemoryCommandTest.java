package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.Client;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.LeakCheck;
import dev.ferry.SharedMemoryLane;
import dev.ferry.internal.connection.FramedConnection;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code ferry echo --shared-memory}: lanes for clients that ask, the socket for the others. */
@ExtendWith(LeakCheck.class)
class EchoSharedMemoryCommandTest {
  private static final String KEY = "00112233445566778899aabbccddeeff";

  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({"'', 0", "key, 0", "'', 200", "key, 200"})
  void servesLaneClientsOverTheRingsAndStockClientsOverTheSocket(String key, int spinMicros)
      throws Exception {
    Path socket = dir.resolve("echo.sock");
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("echo", "--address",
        "unix:" + socket, "--max-connections", "2", "--shared-memory"));
    if (!key.isEmpty()) args.addAll(java.util.List.of("--authkey-hex", KEY));
    if (spinMicros > 0) args.addAll(java.util.List.of("--receive-spin-us", "" + spinMicros));
    Cli.Running echo = Cli.start(args.toArray(new String[0]));
    assertEquals("unix:" + socket, echo.awaitListening());

    ConnectionOptions.Builder options = ConnectionOptions.builder()
        .sharedMemoryLane(SharedMemoryLane.builder().ringSize(4096).build());
    if (!key.isEmpty()) options.authKey(AuthKey.fromHex(KEY));
    try (Connection lane = Client.connect(new Address.Unix(socket), options.build())) {
      assertTrue(((FramedConnection) lane).usesSharedMemoryLane());
      Random random = new Random(17);
      for (int size : new int[] {0, 64, 4095, 4096, 100_000}) {
        byte[] payload = new byte[size];
        random.nextBytes(payload);
        lane.sendBytes(payload);
        assertArrayEquals(payload, lane.receiveBytes(), "size " + size);
      }
    }
    ConnectionOptions.Builder plain = ConnectionOptions.builder();
    if (!key.isEmpty()) plain.authKey(AuthKey.fromHex(KEY));
    try (Connection stock = Client.connect(new Address.Unix(socket), plain.build())) {
      assertFalse(((FramedConnection) stock).usesSharedMemoryLane());
      stock.sendBytes(new byte[] {1, 2, 3});
      assertArrayEquals(new byte[] {1, 2, 3}, stock.receiveBytes());
    }
    assertEquals(0, echo.awaitExit().exitCode());
  }

  @Test
  void aTcpAddressIsRefusedByName() {
    for (String command : new String[] {"echo", "listen"}) {
      Cli.Result r = Cli.run(command, "--address", "tcp:127.0.0.1:0", "--shared-memory");
      assertEquals(2, r.exitCode(), command);
      assertTrue(r.err().startsWith("--shared-memory needs a unix address (unix:PATH or"
          + " unix:@NAME): a lane's memory cannot travel over tcp:127.0.0.1:0"), r.err());
    }
  }
}
