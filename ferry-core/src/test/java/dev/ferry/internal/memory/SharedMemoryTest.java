package dev.ferry.internal.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel.MapMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class SharedMemoryTest {
  @Test
  void memoryIsUnnamedZeroedAndSharedWithWhoeverOpensItsDescriptor() throws IOException {
    try (SharedMemory memory = SharedMemory.create(1 << 20)) {
      assertEquals(0, ferryFilesOfThisProcess());
      MappedByteBuffer mine = memory.map(MapMode.READ_WRITE, 0, memory.size());
      assertEquals(0, mine.getLong(4096));
      mine.putLong(4096, 0x1234_5678_9abc_def0L);
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/"
          + dev.ferry.internal.transport.InheritedDescriptors.number(memory.descriptor())))
          .toString();
      assertTrue(target.endsWith("(deleted)"), target);
      try (SharedMemory other = SharedMemory.open(memory.descriptor())) {
        assertEquals(1 << 20, other.size());
        MappedByteBuffer theirs = other.map(MapMode.READ_WRITE, 0, other.size());
        assertEquals(0x1234_5678_9abc_def0L, theirs.getLong(4096));
        theirs.put(7, (byte) 42);
        assertEquals(42, mine.get(7));
      }
    }
  }

  @Test
  void mappingsAreCountedUntilTheCollectorFreesThem() throws Exception {
    collectMappings(); // other tests' mappings
    assertEquals(0, SharedMemory.mappedBytes());
    mapAndDrop(3 << 20);
    collectMappings();
    assertEquals(0, SharedMemory.mappedBytes());
  }

  @Test
  void mappingsInUseOverTheLimitCostOneCollectionNotOneEach() throws Exception {
    collectMappings();
    try (SharedMemory memory = SharedMemory.create(1 << 20)) {
      MappedByteBuffer live = memory.map(MapMode.READ_ONLY, 0, memory.size());
      long first = System.nanoTime();
      MappedBytes.reserve(1, 1 << 20); // over the limit: a collection, which frees nothing
      long second = System.nanoTime();
      for (int i = 0; i < 5; i++) MappedBytes.reserve(1, 1 << 20);
      long end = System.nanoTime();
      assertTrue(second - first >= 400_000_000L, "the first waits: " + (second - first) + " ns");
      assertTrue(end - second < 400_000_000L, "five more after it: " + (end - second) + " ns");
      assertEquals(0, live.get(0));
    }
  }

  /** In a frame of its own: the interpreter keeps a dead local reachable until its method ends. */
  private static void mapAndDrop(int size) throws IOException {
    try (SharedMemory memory = SharedMemory.create(size)) {
      MappedByteBuffer mapping = memory.map(MapMode.READ_WRITE, 0, memory.size());
      assertEquals(size, SharedMemory.mappedBytes());
      mapping.put(0, (byte) 1);
    }
  }

  private static void collectMappings() throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (SharedMemory.mappedBytes() > 0 && System.nanoTime() < deadline) {
      System.gc();
      Thread.sleep(20);
    }
  }

  @Test
  void aReceivedDescriptorMustBeSharedMemory() throws IOException {
    Path disk = Files.createTempFile("ferry-not-shm-", "");
    try (java.io.RandomAccessFile file = new java.io.RandomAccessFile(disk.toFile(), "r")) {
      IOException e = assertThrows(IOException.class,
          () -> SharedMemory.openReceived(file.getFD()));
      assertTrue(e.getMessage().matches("descriptor \\d+ is not shared memory: " + disk), e.getMessage());
    } finally {
      Files.delete(disk);
    }
    try (SharedMemory memory = SharedMemory.create(4096);
        SharedMemory received = SharedMemory.openReceived(memory.descriptor())) {
      assertEquals(4096, received.size());
    }
  }

  @Test
  void fromJdk22OnMemoryIsAMemfdWhoseSizeIsSealed() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.version().feature() >= 22,
        "memfd_create needs java.lang.foreign, JDK 22+");
    try (SharedMemory memory = SharedMemory.create(8192)) {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/"
          + dev.ferry.internal.transport.InheritedDescriptors.number(memory.descriptor())))
          .toString();
      assertTrue(target.startsWith("/memfd:ferry"), target);
      assertThrows(IOException.class, () -> memory.channel().truncate(4096));
      assertEquals(8192, memory.currentSize());
    }
  }

  @Test
  void negativeSizeIsRefusedByName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SharedMemory.create(-5));
    assertEquals("size < 0: -5", e.getMessage());
  }

  private static long ferryFilesOfThisProcess() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
      String mine = "ferry-" + ProcessHandle.current().pid() + "-";
      return files.filter(p -> p.getFileName().toString().startsWith(mine)).count();
    }
  }
}
