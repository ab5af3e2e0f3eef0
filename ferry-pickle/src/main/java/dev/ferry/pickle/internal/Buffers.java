package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyTuple;
import dev.ferry.pickle.SharedBuffer;
import java.nio.ByteBuffer;

/** Bytes-like values: Java's {@code ByteBuffer} and {@link SharedBuffer}, Python's memoryview. */
final class Buffers {
  private Buffers() {}

  /** The bytes of {@code value} (a {@code byte[]}, {@code ByteBuffer} or shared buffer) in band. */
  static byte[] bytes(Object value) throws CodecException {
    if (value instanceof byte[] bytes) return bytes;
    ByteBuffer b = value instanceof SharedBuffer shared ? shared.buffer() : (ByteBuffer) value;
    if (b.remaining() > Integer.MAX_VALUE - 16) {
      throw new CodecException("buffer too large to pickle in band: " + b.remaining());
    }
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return bytes;
  }

  /**
   * {@code memoryview(x)}, which Ferry's bulk messages write around an out-of-band bytes-like:
   * a read-only {@code ByteBuffer} over the same bytes.
   */
  static Object memoryview(PyTuple args, Unpickler u) throws CodecException {
    Stdlib.arity(args, 1, 1, "memoryview");
    Object x = args.get(0);
    if (x instanceof ByteBuffer b) return b.isReadOnly() ? b : b.asReadOnlyBuffer();
    if (x instanceof byte[] b) return ByteBuffer.wrap(b).asReadOnlyBuffer();
    if (x instanceof PyBytearray b) return ByteBuffer.wrap(b.toByteArray()).asReadOnlyBuffer();
    throw new CodecException("memoryview of " + Values.typeName(x) + " is not supported");
  }
}
