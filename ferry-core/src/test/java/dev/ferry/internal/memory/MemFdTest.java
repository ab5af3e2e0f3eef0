package dev.ferry.internal.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Sealed memfds through java.lang.foreign where the runtime has it (Java 22+), none before. */
class MemFdTest {
  @Test
  void availableExactlyFromJava22() {
    assertEquals(Runtime.version().feature() >= 22, MemFd.available());
  }

  @Test
  void olderRuntimesSayWhyTheyCannot() {
    assumeTrue(Runtime.version().feature() < 22);
    IOException e = assertThrows(IOException.class, () -> MemFd.create("ferry-test", 4096));
    assertEquals("memfd needs Java 22 or later", e.getMessage());
  }

  @Test
  void aSealedMemfdKeepsItsSizeAndLeavesNoName() throws IOException {
    assumeTrue(MemFd.available());
    int fd = MemFd.create("ferry-test", 1 << 16);
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      assertTrue(target.startsWith("/memfd:ferry-test"), target);
      assertEquals(0, MemFd.seals(fd));
      MemFd.seal(fd, MemFd.F_SEAL_SHRINK | MemFd.F_SEAL_GROW);
      assertEquals(MemFd.F_SEAL_SHRINK | MemFd.F_SEAL_GROW, MemFd.seals(fd));
      try (RandomAccessFile file = new RandomAccessFile("/proc/self/fd/" + fd, "rw")) {
        assertEquals(1 << 16, file.length());
        assertThrows(IOException.class, () -> file.setLength(10));
        assertThrows(IOException.class, () -> file.setLength(1 << 20));
        assertEquals(1 << 16, file.length());
      }
    } finally {
      MemFd.close(fd);
    }
    assertFalse(Files.exists(Path.of("/proc/self/fd/" + fd)) && Files.readSymbolicLink(
        Path.of("/proc/self/fd/" + fd)).toString().startsWith("/memfd:ferry-test"));
  }

  @Test
  void aTmpfsFileTakesNoSeals() throws IOException {
    assumeTrue(MemFd.available());
    Path file = Files.createTempFile(Path.of("/dev/shm"), "ferry-memfd-test-", "");
    try (RandomAccessFile open = new RandomAccessFile(file.toFile(), "rw")) {
      int fd = dev.ferry.internal.transport.InheritedDescriptors.number(open.getFD());
      assertEquals(MemFd.F_SEAL_SEAL, MemFd.seals(fd)); // tmpfs files are born sealed shut
      assertThrows(IOException.class, () -> MemFd.seal(fd, MemFd.F_SEAL_SHRINK));
    } finally {
      Files.delete(file);
    }
  }
}
