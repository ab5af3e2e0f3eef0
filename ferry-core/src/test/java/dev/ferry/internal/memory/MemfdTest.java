package dev.ferry.internal.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.internal.transport.InheritedDescriptors;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The memfd calls exist exactly where the runtime has java.lang.foreign, and tell shmem apart. */
class MemfdTest {
  @Test
  void availableExactlyFromJava22() {
    assertEquals(Runtime.version().feature() >= 22, Memfd.available().isPresent());
  }

  @Test
  void aMemfdTakesSealsAndATmpfsFileIsBornSealedShut() throws IOException {
    assumeTrue(Memfd.available().isPresent(), "memfd needs java.lang.foreign, JDK 22+");
    Memfd calls = Memfd.available().get();
    int fd = calls.create();
    try {
      assertEquals(0, calls.seals(fd));
      calls.addSeals(fd, Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW);
      assertEquals(Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW, calls.seals(fd));
    } finally {
      calls.close(fd);
    }
    Path file = Files.createTempFile(Path.of("/dev/shm"), "ferry-memfd-test-", "");
    try (RandomAccessFile open = new RandomAccessFile(file.toFile(), "rw")) {
      int number = InheritedDescriptors.number(open.getFD());
      assertEquals(Memfd.F_SEAL_SEAL, calls.seals(number));
      assertThrows(IOException.class, () -> calls.addSeals(number, Memfd.F_SEAL_SHRINK));
    } finally {
      Files.delete(file);
    }
  }
}
