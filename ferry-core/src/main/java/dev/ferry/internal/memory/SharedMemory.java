package dev.ferry.internal.memory;

import dev.ferry.internal.transport.InheritedDescriptors;
import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Anonymous shared memory that can travel to another process by SCM_RIGHTS: a file on the
 * {@code /dev/shm} tmpfs that is unlinked the moment it is open, so that its only names are the
 * descriptors of the processes that hold it and the kernel frees it when the last one closes.
 *
 * <p>On JDK 22 and later the memory is a memfd instead, sealed against shrinking and growing
 * ({@link Memfd}, through {@code java.lang.foreign}); what follows is the Java 17 path.
 *
 * <p>Java 17 cannot call {@code memfd_create}, so the file has a name for the few microseconds
 * between creating and unlinking it. The name is {@code ferry-PID-RANDOM}; a crash inside that
 * window leaves the file behind, and the next process that creates shared memory removes every
 * such file whose PID is no longer running. Such memory cannot be sealed (tmpfs files carry
 * {@code F_SEAL_SEAL} from birth): a receiver must not trust its size to stay put.
 *
 * <p>An instance owns one descriptor (a {@link RandomAccessFile} open for reading and writing);
 * {@link #close()} closes it. Mappings made from it stay valid after close, until the garbage
 * collector frees them: Java 17 has no public unmap. {@link MappedBytes} keeps what unreachable
 * mappings pin bounded.
 */
public final class SharedMemory implements Closeable {
  private static final Path DIRECTORY = Path.of("/dev/shm");
  private static final String PREFIX = "ferry-";
  private static final SecureRandom RANDOM = new SecureRandom();
  private static volatile boolean swept;

  private final RandomAccessFile file;
  private final long size;

  private SharedMemory(RandomAccessFile file, long size) {
    this.file = file;
    this.size = size;
  }

  /**
   * New zero-filled shared memory of {@code size} bytes. On JDK 22+ a memfd, named nowhere at
   * all, sealed against shrinking and growing once it has its size, so that a receiver that checks
   * seals may map it without fearing SIGBUS. It cannot be sealed against writing: this process's
   * own writable mapping lasts until the collector frees it, and the kernel refuses that seal
   * while one exists. Elsewhere a file in {@link #DIRECTORY}, unlinked at once.
   */
  public static SharedMemory create(long size) throws IOException {
    if (size < 0) throw new IllegalArgumentException("size < 0: " + size);
    Optional<Memfd> memfd = Memfd.available();
    RandomAccessFile file = memfd.isPresent() ? openMemfd(memfd.get()) : openUnlinked();
    try {
      file.setLength(size);
      if (memfd.isPresent()) {
        memfd.get().addSeals(InheritedDescriptors.number(file.getFD()),
            Memfd.F_SEAL_SHRINK | Memfd.F_SEAL_GROW | Memfd.F_SEAL_SEAL);
      }
    } catch (IOException e) {
      file.close();
      throw new IOException("cannot make " + size + " bytes of shared memory: " + e.getMessage(), e);
    }
    return new SharedMemory(file, size);
  }

  private static RandomAccessFile openMemfd(Memfd memfd) throws IOException {
    int fd = memfd.create();
    try {
      return new RandomAccessFile("/proc/self/fd/" + fd, "rw");
    } finally {
      memfd.close(fd);
    }
  }

  private static RandomAccessFile openUnlinked() throws IOException {
    if (!Files.isDirectory(DIRECTORY)) {
      throw new IOException("shared memory needs " + DIRECTORY + " (a tmpfs, as on Linux)");
    }
    if (!swept) sweepOrphans();
    long pid = ProcessHandle.current().pid();
    Path path = DIRECTORY.resolve(PREFIX + pid + "-"
        + HexFormat.of().formatHex(RANDOM.generateSeed(8)));
    Files.createFile(path,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      return new RandomAccessFile(path.toFile(), "rw");
    } finally {
      Files.delete(path);
    }
  }

  /**
   * Opens the shared memory behind a received descriptor for reading and writing, through
   * {@code /proc/self/fd} (a received descriptor's own access mode may be read-only). The caller
   * still owns {@code fd} and closes it.
   */
  public static SharedMemory open(FileDescriptor fd) throws IOException {
    int number = InheritedDescriptors.number(fd);
    RandomAccessFile file = new RandomAccessFile("/proc/self/fd/" + number, "rw");
    return new SharedMemory(file, file.length());
  }

  /**
   * Opens, read-only, the shared memory behind a descriptor that a peer sent, after checking that
   * it is shared memory at all: a memfd or a file on {@code /dev/shm}, not a disk file, a socket or
   * a pipe. Java 17 cannot read a memfd's seals, so this cannot tell sealed memory from unsealed.
   * The caller still owns {@code fd} and closes it.
   *
   * @throws IOException naming the descriptor and what it is, if it is not shared memory
   */
  public static SharedMemory openReceived(FileDescriptor fd) throws IOException {
    int number = InheritedDescriptors.number(fd);
    Path link = Path.of("/proc/self/fd/" + number);
    String target;
    try {
      target = Files.readSymbolicLink(link).toString();
    } catch (IOException e) {
      throw new IOException("descriptor " + number + " cannot be inspected: " + e.getMessage(), e);
    }
    boolean shared = target.startsWith("/memfd:") || target.startsWith(DIRECTORY + "/");
    if (!shared || !Files.isRegularFile(link)) {
      throw new IOException("descriptor " + number + " is not shared memory: " + target);
    }
    RandomAccessFile file = new RandomAccessFile(link.toFile(), "r");
    try {
      return new SharedMemory(file, file.length());
    } catch (IOException e) {
      file.close();
      throw e;
    }
  }

  /** The size when created or opened; the file's own size may differ if a peer changed it. */
  public long size() {
    return size;
  }

  /** The file's size now, as the kernel has it. */
  public long currentSize() throws IOException {
    return file.length();
  }

  /** The descriptor, for SCM_RIGHTS; owned by this object. */
  public FileDescriptor descriptor() throws IOException {
    return file.getFD();
  }

  public FileChannel channel() {
    return file.getChannel();
  }

  /**
   * Maps {@code length} bytes at {@code offset}, at most 2 GiB - 1 per mapping. The mapping
   * outlives {@link #close()}: Java 17 unmaps it only once the buffer is unreachable and
   * collected.
   */
  public MappedByteBuffer map(FileChannel.MapMode mode, long offset, long length)
      throws IOException {
    MappedBytes.reserve(length);
    MappedByteBuffer mapping = file.getChannel().map(mode, offset, length);
    MappedBytes.track(mapping, length);
    return mapping;
  }

  /** Bytes this process has mapped through this class and the collector has not yet freed. */
  public static long mappedBytes() {
    return MappedBytes.drainedTotal();
  }

  @Override
  public void close() throws IOException {
    file.close();
  }

  /** Removes {@code ferry-PID-*} files left by processes that crashed while creating one. */
  private static void sweepOrphans() {
    swept = true;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(DIRECTORY, PREFIX + "*")) {
      for (Path path : files) {
        String[] parts = path.getFileName().toString().split("-");
        if (parts.length != 3) continue;
        try {
          long pid = Long.parseLong(parts[1]);
          if (ProcessHandle.of(pid).isEmpty()) Files.deleteIfExists(path);
        } catch (NumberFormatException | IOException e) {
          // not ours, or someone else's to remove
        }
      }
    } catch (IOException e) {
      // best effort: an orphan costs memory, not correctness
    }
  }
}
