package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.NdArray;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Pickle protocol 5's out-of-band buffers for one pickle: on writing, which large buffers leave
 * the pickle (each becomes a {@code NEXT_BUFFER} opcode, in order); on reading, the buffers that
 * those opcodes take, in order. Python: {@code buffer_callback} and {@code buffers}.
 */
public interface OutOfBand {

  /**
   * Whether {@code value} (an {@code NdArray}, a {@code ByteBuffer}, a {@code byte[]} or a
   * {@code SharedBuffer}) of {@code length} bytes travels out of band; if so it is the next
   * buffer of the message.
   */
  boolean write(Object value, long length) throws CodecException;

  /** The next buffer, read-only, for a {@code NEXT_BUFFER} opcode. */
  ByteBuffer next() throws CodecException;

  /**
   * A numpy array in C order over {@code buffer} (one that {@link #next()} gave), whose bytes
   * are in {@code order}.
   */
  NdArray array(ByteBuffer buffer, ByteOrder order, NdArray.DType type, int[] shape)
      throws CodecException;
}
