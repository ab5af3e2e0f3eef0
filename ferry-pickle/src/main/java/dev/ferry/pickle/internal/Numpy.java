package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.NdArray.DType;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyComplex;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyTuple;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * numpy arrays and scalars of numeric dtypes, as numpy pickles them:
 *
 * <pre>
 * protocol 2-4: numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')
 *               BUILD (1, shape, dtype, is_fortran, raw_bytes)
 * protocol 5:   numpy.core.numeric._frombuffer(buffer, dtype, shape, order)
 * dtype:        numpy.dtype('i4', False, True)  BUILD (3, '&lt;', None, None, None, -1, -1, 0)
 * scalar:       numpy.core.multiarray.scalar(dtype, raw_bytes)
 * </pre>
 *
 * numpy 2 moved {@code numpy.core} to {@code numpy._core}; both names are accepted.
 */
final class Numpy {
  private Numpy() {}

  /** A decoded dtype; {@code type} is null for a dtype Java does not support (like 'U5'). */
  record DTypeValue(String code, DType type, ByteOrder order) {}

  static Map<String, Globals.Handler> handlers() {
    Map<String, Globals.Handler> h = new HashMap<>();
    for (String core : List.of("numpy.core", "numpy._core")) {
      h.put(core + ".multiarray._reconstruct", Numpy::reconstruct);
      h.put(core + ".multiarray.scalar", Numpy::scalar);
      h.put(core + ".numeric._frombuffer", Numpy::fromBuffer);
    }
    h.put("numpy.ndarray", (args, u) -> {
      throw new CodecException("numpy.ndarray() is not supported");
    });
    h.put("numpy.dtype", Numpy::dtype);
    return h;
  }

  private static Object dtype(PyTuple args, Unpickler u) throws CodecException {
    Stdlib.arity(args, 1, 3, "numpy.dtype");
    if (!(args.get(0) instanceof String code)) throw new CodecException("numpy.dtype needs a str");
    return new Unpickler.Pending() {
      @Override
      String what() {
        return "numpy.dtype";
      }

      @Override
      Object build(Object state, Unpickler unpickler) throws CodecException {
        if (!(state instanceof PyTuple t) || t.size() < 2 || !(t.get(1) instanceof String order)) {
          throw new CodecException("bad numpy.dtype state");
        }
        ByteOrder byteOrder = switch (order) {
          case "<", "|" -> ByteOrder.LITTLE_ENDIAN;
          case "=" -> ByteOrder.nativeOrder();
          case ">" -> ByteOrder.BIG_ENDIAN;
          default -> throw new CodecException("bad numpy byte order: " + order);
        };
        return new DTypeValue(code, DType.ofCode(code), byteOrder);
      }
    };
  }

  private static DType supported(Object dtype) throws CodecException {
    if (!(dtype instanceof DTypeValue d)) {
      throw new CodecException("numpy dtype expected, not " + Values.typeName(dtype));
    }
    if (d.type() == null) throw new CodecException("numpy dtype not supported: " + d.code());
    return d.type();
  }

  private static Object reconstruct(PyTuple args, Unpickler u) throws CodecException {
    Stdlib.arity(args, 3, 3, "numpy _reconstruct");
    if (!(args.get(0) instanceof PyGlobal g) || !g.qualifiedName().equals("numpy.ndarray")) {
      throw new CodecException("numpy _reconstruct supports numpy.ndarray only");
    }
    return new Unpickler.Pending() {
      @Override
      String what() {
        return "numpy.ndarray";
      }

      @Override
      Object build(Object state, Unpickler unpickler) throws CodecException {
        if (!(state instanceof PyTuple t) || t.size() < 4 || t.size() > 5) {
          throw new CodecException("bad numpy.ndarray state");
        }
        List<Object> s = t.size() == 5 ? t.items().subList(1, 5) : t.items();
        boolean fortran = Boolean.TRUE.equals(s.get(2));
        return array(s.get(1), s.get(0), fortran, s.get(3), unpickler);
      }
    };
  }

  private static Object fromBuffer(PyTuple args, Unpickler u) throws CodecException {
    Stdlib.arity(args, 4, 4, "numpy _frombuffer");
    return array(args.get(1), args.get(2), "F".equals(args.get(3)), args.get(0), u);
  }

  private static NdArray array(Object dtype, Object shapeValue, boolean fortran, Object raw,
      Unpickler u) throws CodecException {
    DType type = supported(dtype);
    ByteOrder order = ((DTypeValue) dtype).order();
    if (!(shapeValue instanceof PyTuple shapeTuple)) throw new CodecException("bad numpy shape");
    int[] shape = new int[shapeTuple.size()];
    long count = 1;
    for (int i = 0; i < shape.length; i++) {
      long n = Numbers.toLong(shapeTuple.get(i), "numpy dimension");
      if (n < 0 || n > Integer.MAX_VALUE) throw new CodecException("bad numpy dimension: " + n);
      shape[i] = (int) n;
      count *= n;
      if (count > Integer.MAX_VALUE) throw new CodecException("numpy array too large");
    }
    if (raw instanceof ByteBuffer b && (!fortran || shape.length < 2) && u.buffers() != null) {
      if (b.remaining() != count * type.itemSize()) {
        throw new CodecException("numpy buffer of " + b.remaining() + " bytes does not match shape");
      }
      return u.buffers().array(b, order, type, shape);
    }
    byte[] bytes = raw instanceof byte[] b ? b
        : raw instanceof ByteBuffer b ? Buffers.bytes(b)
        : raw instanceof PyBytearray b ? b.toByteArray()
        : raw instanceof String s ? s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)
        : null;
    if (bytes == null) {
      throw new CodecException("numpy data must be bytes, not " + Values.typeName(raw));
    }
    if (bytes.length != count * type.itemSize()) {
      throw new CodecException("numpy data of " + bytes.length + " bytes does not match shape");
    }
    u.charge(2L * bytes.length);
    if (fortran && shape.length > 1) bytes = toCOrder(bytes, shape, type.itemSize());
    // Converted into a Java array here, so that the array holds no view of the pickle's bytes
    return NdArray.wrap(type, shape, NdArray.wrap(type, shape, ByteBuffer.wrap(bytes).order(order))
        .data());
  }

  /** Reorders Fortran-order (first index fastest) elements into C order (last index fastest). */
  private static byte[] toCOrder(byte[] f, int[] shape, int itemSize) {
    int dims = shape.length;
    long[] fStride = new long[dims];
    long stride = 1;
    for (int d = 0; d < dims; d++) {
      fStride[d] = stride;
      stride *= shape[d];
    }
    byte[] c = new byte[f.length];
    int[] index = new int[dims];
    int count = f.length / itemSize;
    for (int i = 0; i < count; i++) {
      long offset = 0;
      for (int d = 0; d < dims; d++) offset += index[d] * fStride[d];
      System.arraycopy(f, (int) offset * itemSize, c, i * itemSize, itemSize);
      for (int d = dims - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) break;
        index[d] = 0;
      }
    }
    return c;
  }

  private static Object scalar(PyTuple args, Unpickler u) throws CodecException {
    Stdlib.arity(args, 2, 2, "numpy scalar");
    DType type = supported(args.get(0));
    Object raw = args.get(1);
    byte[] bytes = raw instanceof byte[] b ? b
        : raw instanceof String s ? s.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1) : null;
    if (bytes == null || bytes.length != type.itemSize()) {
      throw new CodecException("bad numpy scalar");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(((DTypeValue) args.get(0)).order());
    return switch (type) {
      case BOOL -> bytes[0] != 0;
      case INT8 -> (int) bytes[0];
      case UINT8 -> bytes[0] & 0xff;
      case INT16 -> (int) b.getShort();
      case UINT16 -> b.getShort() & 0xffff;
      case INT32 -> b.getInt();
      case UINT32 -> Numbers.normalize(b.getInt() & 0xffffffffL);
      case INT64 -> Numbers.normalize(b.getLong());
      case UINT64 -> Numbers.normalize(new BigInteger(Long.toUnsignedString(b.getLong())));
      case FLOAT32 -> (double) b.getFloat();
      case FLOAT64 -> b.getDouble();
      case COMPLEX64 -> new PyComplex(b.getFloat(), b.getFloat());
      case COMPLEX128 -> new PyComplex(b.getDouble(), b.getDouble());
    };
  }

  /** The elements of {@code array} as numpy's little-endian data bytes, for writing. */
  static byte[] littleEndianData(NdArray array) throws CodecException {
    if (array.byteSize() > Integer.MAX_VALUE - 16) {
      throw new CodecException("numpy array too large: " + array.byteSize());
    }
    ByteBuffer b = array.buffer();
    if (b.order() != ByteOrder.LITTLE_ENDIAN && array.dtype().itemSize() > 1) {
      b = NdArray.wrap(array.dtype(), array.shape(), array.data()).buffer();
    }
    // An array over a Java array gives a fresh heap buffer of exactly its bytes
    if (b.hasArray() && b.arrayOffset() == 0 && b.array().length == b.remaining()) {
      return b.array();
    }
    return Buffers.bytes(b);
  }
}
