package dev.ferry.pickle;

import dev.ferry.internal.handle.Descriptors;
import dev.ferry.internal.memory.SharedMemory;
import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel.MapMode;
import java.util.Objects;

/**
 * Memory to fill in place and send in a bulk message ({@link Bulk}) with no copy: shared memory
 * mapped into this process, whose descriptor travels with the message, so that the receiver maps
 * the very pages written here. Sent as a value, it arrives in Python as a read-only
 * {@code memoryview}; {@link #ndarray} makes a numpy array over it.
 *
 * <p>On JDK 22 and later the memory is a memfd sealed against shrinking and growing, which a Python
 * receiver maps. Java 17 cannot make one: there it is an unlinked {@code /dev/shm} file whose
 * size the receiver cannot trust to stay put, so a Python receiver copies it out rather than map
 * it (docs/BULK.md). Neither is sealed against writing: do not write to it once sent, the receiver
 * may be reading it.
 *
 * <p>{@link #close()} closes the descriptor; the mapping stays valid until the garbage collector
 * frees the last buffer over it (Java 17 has no public unmap). Safe for use by many threads only
 * as far as the bytes written through {@link #buffer()} are.
 */
public final class SharedBuffer implements AutoCloseable {
  private final FileDescriptor fd;
  /** Where {@link #mapping} starts in the memory behind {@link #fd}. */
  private final long offset;
  /** The whole buffer, little-endian, position 0. */
  private final ByteBuffer mapping;
  private final SharedMemory owner;

  private SharedBuffer(FileDescriptor fd, long offset, ByteBuffer mapping, SharedMemory owner) {
    this.fd = fd;
    this.offset = offset;
    this.mapping = mapping.order(ByteOrder.LITTLE_ENDIAN);
    this.owner = owner;
  }

  /**
   * New zero-filled shared memory of {@code size} bytes, mapped for reading and writing.
   *
   * @throws IllegalArgumentException if {@code size} is negative or over 2 GiB - 1 (the most one
   *     Java mapping holds)
   * @throws IOException if the memory cannot be made (no {@code /dev/shm}, or out of memory)
   */
  public static SharedBuffer allocate(long size) throws IOException {
    if (size < 0 || size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("size not in 0.." + Integer.MAX_VALUE + ": " + size);
    }
    SharedMemory memory = SharedMemory.create(size);
    try {
      return new SharedBuffer(memory.descriptor(), 0,
          memory.map(MapMode.READ_WRITE, 0, size), memory);
    } catch (IOException | RuntimeException e) {
      memory.close();
      throw e;
    }
  }

  /**
   * Maps, read-only, {@code length} bytes at {@code offset} of the shared memory behind a
   * received descriptor. With {@code keep} the buffer owns {@code fd} and closes it; else the
   * caller still does.
   */
  static SharedBuffer mapReceived(FileDescriptor fd, long offset, long length, boolean keep)
      throws IOException {
    try (SharedMemory memory = SharedMemory.openReceived(fd)) {
      if (offset > memory.size() - length) {
        throw new IOException("buffer of " + length + " bytes at " + offset
            + " lies outside the " + memory.size() + " bytes of shared memory sent");
      }
      ByteBuffer mapped = memory.map(MapMode.READ_ONLY, offset, length);
      return new SharedBuffer(keep ? fd : null, offset, mapped, null);
    }
  }

  /** The size in bytes. */
  public long size() {
    return mapping.capacity();
  }

  /**
   * The memory, little-endian, from position 0 to its size: a new view each call (writable unless
   * this buffer came from a peer), so that threads may hold one each.
   */
  public ByteBuffer buffer() {
    return mapping.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * A numpy array of {@code dtype} and {@code shape} over the first bytes of this memory, C order,
   * little-endian, no copy: fill it through {@link NdArray#buffer()} and send it.
   *
   * @throws IllegalArgumentException if the shape needs more bytes than this memory holds
   */
  public NdArray ndarray(NdArray.DType dtype, int... shape) {
    Objects.requireNonNull(dtype, "dtype");
    long bytes = dtype.itemSize();
    for (int n : shape) {
      if (n < 0) throw new IllegalArgumentException("negative dimension: " + n);
      bytes *= n;
      if (bytes > size()) {
        throw new IllegalArgumentException("shape needs more than the " + size()
            + " bytes of this buffer");
      }
    }
    return NdArray.over(this, buffer().limit((int) bytes).slice().order(ByteOrder.LITTLE_ENDIAN),
        dtype, shape);
  }

  /** The descriptor to send, or null once closed or when this buffer does not keep one. */
  FileDescriptor descriptor() {
    return fd != null && fd.valid() ? fd : null;
  }

  /** Where this buffer starts in the memory behind {@link #descriptor()}. */
  long offset() {
    return offset;
  }

  /** Closes the descriptor. The mapping lasts until the garbage collector frees it. */
  @Override
  public void close() throws IOException {
    if (owner != null) {
      owner.close();
    } else if (fd != null) {
      Descriptors.close(fd);
    }
  }

  @Override
  public String toString() {
    return "SharedBuffer[" + size() + " bytes]";
  }
}
