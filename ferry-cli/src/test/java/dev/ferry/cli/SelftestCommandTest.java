package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.LeakCheck;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheck.class)
class SelftestCommandTest {
  @Test
  void printsOneLinePerCheckAndExitsZeroWhenAllAreOk() {
    Cli.Result r = Cli.run("selftest");
    List<String> lines = r.out().lines().toList();
    assertEquals(List.of("socket pair round trip: ok", "unix path: ok", "abstract name: ok",
        "tcp v4: ok"), lines.subList(0, 4), r.out());
    assertEquals(5, lines.size(), r.out());
    if (ipv6LoopbackWorks()) {
      assertEquals("tcp v6: ok", lines.get(4));
      assertEquals(0, r.exitCode());
    } else {
      // Containers without ::1 exist; there the check must say so and fail the command.
      assertTrue(lines.get(4).startsWith("tcp v6: failed: "), lines.get(4));
      assertEquals(1, r.exitCode());
    }
    assertEquals("", r.err());
  }

  private static boolean ipv6LoopbackWorks() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("::1"))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
