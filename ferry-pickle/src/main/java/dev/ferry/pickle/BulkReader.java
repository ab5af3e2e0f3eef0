package dev.ferry.pickle;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.internal.OutOfBand;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The out-of-band buffers of one received bulk message, mapped read-only, handed to the pickle's
 * {@code NEXT_BUFFER} opcodes in order. Remembers, by identity, which memory each buffer and
 * array lies in, so that an answer can send them back as they are ({@link Bulk.Message}).
 */
final class BulkReader implements OutOfBand {
  private final List<SharedBuffer> memories;
  private final boolean keep;
  private final Map<Object, SharedBuffer> origins = new IdentityHashMap<>();
  private int next;

  BulkReader(List<SharedBuffer> memories, boolean keep) {
    this.memories = memories;
    this.keep = keep;
  }

  @Override
  public boolean write(Object value, long length) {
    throw new IllegalStateException("reading");
  }

  @Override
  public ByteBuffer next() throws CodecException {
    if (next == memories.size()) {
      throw new CodecException("pickle asks for out-of-band buffer " + (next + 1) + " of "
          + memories.size());
    }
    SharedBuffer memory = memories.get(next++);
    ByteBuffer view = memory.buffer().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (keep) origins.put(view, memory);
    return view;
  }

  @Override
  public NdArray array(ByteBuffer buffer, ByteOrder order, NdArray.DType type, int[] shape) {
    SharedBuffer memory = origins.get(buffer);
    if (memory == null || order != ByteOrder.LITTLE_ENDIAN || buffer.position() != 0) {
      return NdArray.wrap(type, shape, buffer.duplicate().order(order));
    }
    NdArray array = NdArray.over(memory, buffer.duplicate().order(order), type, shape);
    origins.put(array, memory);
    return array;
  }

  /** Received buffers and arrays by identity, with the memory they lie in. */
  Map<Object, SharedBuffer> origins() {
    return origins;
  }
}
