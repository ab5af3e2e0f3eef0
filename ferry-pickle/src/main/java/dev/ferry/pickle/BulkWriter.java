package dev.ferry.pickle;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.internal.OutOfBand;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The out-of-band buffers of one bulk message being written: memory that already is shared (a
 * {@link SharedBuffer}, an array over one, a buffer received in the message being answered)
 * travels as it is; anything else at or above the threshold is copied once into new shared
 * memory, which {@link #close()} releases once the message has left.
 */
final class BulkWriter implements OutOfBand, AutoCloseable {
  private final long threshold;
  /** Received buffers by identity, with the memory they lie in; empty unless answering. */
  private final Map<Object, SharedBuffer> received;
  private final List<FileDescriptor> fds = new ArrayList<>();
  // Where buffer i lies in fds.get(i); write() keeps the count within MAX_BUFFERS.
  private final long[] offsets = new long[BulkFrame.MAX_BUFFERS];
  private final long[] lengths = new long[BulkFrame.MAX_BUFFERS];
  private final List<SharedBuffer> copies = new ArrayList<>();

  BulkWriter(long threshold, Map<Object, SharedBuffer> received) {
    this.threshold = threshold;
    this.received = received;
  }

  @Override
  public boolean write(Object value, long length) throws CodecException {
    if (length < threshold) return false;
    if (fds.size() == BulkFrame.MAX_BUFFERS) {
      throw new CodecException("bulk buffers " + (fds.size() + 1) + " > limit "
          + BulkFrame.MAX_BUFFERS + " (descriptors a Java receiver takes with one message)");
    }
    SharedBuffer memory = sharedMemoryOf(value);
    if (memory != null && memory.descriptor() != null) {
      // A received buffer sends its bytes from its position, as any other ByteBuffer does
      long skipped = value instanceof ByteBuffer b ? b.position() : 0;
      add(memory.descriptor(), memory.offset() + skipped, length);
      return true;
    }
    try {
      SharedBuffer copy = SharedBuffer.allocate(length);
      copies.add(copy);
      fill(copy.buffer(), value);
      add(copy.descriptor(), 0, length);
    } catch (IOException e) {
      throw new CodecException("cannot copy " + length + " bytes into shared memory: "
          + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new CodecException("buffer too large for one shared buffer: " + length);
    }
    return true;
  }

  /** The shared memory {@code value}'s bytes already lie in, at its start; null if none. */
  private SharedBuffer sharedMemoryOf(Object value) {
    if (value instanceof SharedBuffer shared) return shared;
    if (value instanceof NdArray array) {
      boolean littleEndian = array.dtype().itemSize() == 1
          || array.buffer().order() == ByteOrder.LITTLE_ENDIAN;
      if (!littleEndian) return null;
      return array.memory != null ? array.memory : received.get(array);
    }
    return received.get(value);
  }

  private static void fill(ByteBuffer target, Object value) {
    if (value instanceof byte[] bytes) {
      target.put(bytes);
    } else if (value instanceof ByteBuffer b) {
      target.put(b.duplicate());
    } else if (value instanceof SharedBuffer shared) {
      target.put(shared.buffer());
    } else if (value instanceof NdArray array) {
      fillArray(target, array);
    }
  }

  /** numpy's little-endian element bytes, straight from the Java array where there is one. */
  private static void fillArray(ByteBuffer target, NdArray array) {
    if (!array.inBuffer()) {
      array.copyTo(target);
    } else if (array.buffer().order() == ByteOrder.LITTLE_ENDIAN) {
      target.put(array.buffer());
    } else {
      NdArray.wrap(array.dtype(), array.shape(), array.data()).copyTo(target);
    }
  }

  private void add(FileDescriptor fd, long offset, long length) {
    offsets[fds.size()] = offset;
    lengths[fds.size()] = length;
    fds.add(fd);
  }

  boolean isEmpty() {
    return fds.isEmpty();
  }

  FileDescriptor[] descriptors() {
    return fds.toArray(new FileDescriptor[0]);
  }

  /** The payload: header, table, then {@code pickle}. */
  byte[] payload(byte[] pickle) {
    int n = fds.size();
    return BulkFrame.encode(Arrays.copyOf(offsets, n), Arrays.copyOf(lengths, n), pickle);
  }

  @Override
  public ByteBuffer next() throws CodecException {
    throw new IllegalStateException("writing");
  }

  @Override
  public NdArray array(ByteBuffer buffer, ByteOrder order, NdArray.DType type, int[] shape) {
    throw new IllegalStateException("writing");
  }

  /** Closes the copies' descriptors: the receiver holds its own once the message has left. */
  @Override
  public void close() {
    for (SharedBuffer copy : copies) {
      try {
        copy.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
