package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Python side of the shared-memory lane on its own: shm_selftest.py runs ferry_shm (the copy
 * shipped in ferry-core's jar) against itself and against stock multiprocessing.connection ends,
 * in separate processes: lanes with and without an authkey, 0 B to 5 MiB through a 1 MiB and a
 * 4 KiB ring, wait(), SIGKILL of the peer, hostile rings and offers, no descriptor, mapping or
 * /dev/shm file left. Stock 2.7 and 3.6 ends join where installed (legacy MD5 handshakes).
 */
class FerryShmSelfTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "python {0}")
  @ValueSource(strings = {"3.8", "3.11", "3.13"})
  void ferryShmPassesItsSelfTest(String version) throws Exception {
    assumeTrue(SharedMemoryLane.supported(), "a lane needs x86-64 Linux");
    Path python = Pythons.require(version);
    Path script = Pythons.script("/python/shm_selftest.py");
    Path module = Pythons.script("/dev/ferry/handle/ferry_shm.py");
    List<String> command = new ArrayList<>(List.of(python.toString(), script.toString(),
        "--module-dir", module.getParent().toString()));
    for (String peer : List.of("2.7", "3.6")) {
      Optional<Path> other = Pythons.find(peer);
      if (other.isPresent()) {
        command.add("--peer");
        command.add(other.get().toString());
      }
    }
    Path log = dir.resolve("selftest.log");
    Process p = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    try {
      assertTrue(p.waitFor(300, TimeUnit.SECONDS),
          () -> "shm_selftest.py did not finish:\n" + read(log));
    } finally {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    String output = read(log);
    assertEquals(0, p.exitValue(), output);
    assertTrue(output.contains("lane supported: True"), output);
    assertTrue(output.strip().endsWith("ALL OK"), output);
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return "(no output: " + e + ")";
    }
  }
}
