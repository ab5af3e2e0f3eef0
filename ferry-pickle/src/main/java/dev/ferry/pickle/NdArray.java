package dev.ferry.pickle;

import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A numpy array of a numeric dtype: element type, shape, and the elements in C order (row-major,
 * last index fastest) in a Java primitive array. Decoding a numpy array written in Fortran order
 * reorders the elements. Encoding one needs numpy on the peer.
 *
 * <p>An array may instead sit in memory outside the Java heap ({@link #wrap(DType, int[],
 * ByteBuffer)}): a bulk message's out-of-band numpy array arrives as one, a read-only view of the
 * mapped pages that the sender filled, and {@link SharedBuffer#ndarray} makes one to fill in
 * place and send without a copy. {@link #buffer()} gives such memory as it is; {@link #data()}
 * copies it into a Java array.
 *
 * <p>Unsigned dtypes use the signed Java type of the same width (read {@code uint8} with
 * {@code Byte.toUnsignedInt}); complex dtypes interleave real and imaginary parts, so their array
 * holds two numbers per element.
 */
public final class NdArray {

  /** The numeric numpy dtypes, with their numpy names and Java element types. */
  public enum DType {
    BOOL("b1", 1, boolean.class),
    INT8("i1", 1, byte.class),
    UINT8("u1", 1, byte.class),
    INT16("i2", 2, short.class),
    UINT16("u2", 2, short.class),
    INT32("i4", 4, int.class),
    UINT32("u4", 4, int.class),
    INT64("i8", 8, long.class),
    UINT64("u8", 8, long.class),
    FLOAT32("f4", 4, float.class),
    FLOAT64("f8", 8, double.class),
    COMPLEX64("c8", 4, float.class),
    COMPLEX128("c16", 8, double.class);

    private final String code;
    private final int javaWidth;
    private final Class<?> javaType;

    DType(String code, int javaWidth, Class<?> javaType) {
      this.code = code;
      this.javaWidth = javaWidth;
      this.javaType = javaType;
    }

    /** numpy's type code without byte order, like {@code "i4"} or {@code "c16"}. */
    public String code() {
      return code;
    }

    /** The Java primitive type of the array that holds the elements. */
    public Class<?> javaType() {
      return javaType;
    }

    /** Bytes per Java array slot; a complex element takes two slots. */
    public int javaWidth() {
      return javaWidth;
    }

    /** Java array slots per element: 2 for complex, else 1. */
    public int slotsPerElement() {
      return this == COMPLEX64 || this == COMPLEX128 ? 2 : 1;
    }

    /** Bytes per numpy element. */
    public int itemSize() {
      return javaWidth * slotsPerElement();
    }

    /** The dtype for numpy's code without byte order, like {@code "f8"}; {@code null} if none. */
    public static DType ofCode(String code) {
      for (DType type : values()) {
        if (type.code.equals(code)) return type;
      }
      return null;
    }
  }

  private final DType dtype;
  private final int[] shape;
  /** The elements in a Java array; null for an array over a buffer. */
  private final Object data;
  /** The elements as bytes, position 0 to limit, in its byte order; null over a Java array. */
  private final ByteBuffer bytes;
  /** The shared memory that {@link #bytes} lies in, at offset 0; null if none. */
  final SharedBuffer memory;

  private NdArray(DType dtype, int[] shape, ByteBuffer bytes, SharedBuffer memory) {
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape;
    this.data = null;
    this.bytes = bytes;
    this.memory = memory;
    long size = product(dtype.itemSize(), shape);
    if (size != bytes.remaining()) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype
          + " needs " + size + " bytes, not " + bytes.remaining());
    }
  }

  private NdArray(DType dtype, int[] shape, Object data) {
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape;
    this.data = data;
    this.bytes = null;
    this.memory = null;
    if (data.getClass().getComponentType() != dtype.javaType()) {
      throw new IllegalArgumentException(
          "data " + data.getClass().getSimpleName() + " does not hold " + dtype);
    }
    long count = product(dtype.slotsPerElement(), shape);
    if (count != Array.getLength(data)) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype
          + " needs " + count + " array slots, not " + Array.getLength(data));
    }
  }

  /**
   * {@code unit} times every dimension; refused if one is negative or the product overflows (a
   * product that wrapped round could match the data and give the array a false shape).
   */
  private static long product(long unit, int[] shape) {
    long product = unit;
    for (int n : shape) {
      if (n < 0) {
        throw new IllegalArgumentException("negative dimension: " + Arrays.toString(shape));
      }
      try {
        product = Math.multiplyExact(product, n);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape)
            + " holds more than 2^63 bytes");
      }
    }
    return product;
  }

  /**
   * An array of {@code dtype} with {@code shape} whose elements, in C order, are in {@code data}
   * (a primitive array of {@code dtype.javaType()}). Copies {@code shape} and {@code data}.
   *
   * @throws IllegalArgumentException if the data has the wrong type or length for the shape
   */
  public static NdArray of(DType dtype, int[] shape, Object data) {
    Objects.requireNonNull(data, "data");
    int length = data.getClass().isArray() ? Array.getLength(data) : 0;
    Object copy = data.getClass().isArray()
        ? Array.newInstance(data.getClass().getComponentType(), length) : data;
    if (copy != data) System.arraycopy(data, 0, copy, 0, length);
    return new NdArray(dtype, shape.clone(), copy);
  }

  /** Like {@link #of} without copying: the caller gives up {@code data}. */
  public static NdArray wrap(DType dtype, int[] shape, Object data) {
    Objects.requireNonNull(data, "data");
    if (!data.getClass().isArray()) throw new IllegalArgumentException("not an array: " + data);
    return new NdArray(dtype, shape.clone(), data);
  }

  /**
   * An array of {@code dtype} with {@code shape} whose elements, in C order, are the bytes of
   * {@code data} from its position to its limit, in {@code data}'s byte order. No copy: the array
   * reads that memory, and sees whatever is written there later.
   *
   * @throws IllegalArgumentException if the bytes left in {@code data} do not fit the shape
   */
  public static NdArray wrap(DType dtype, int[] shape, ByteBuffer data) {
    ByteBuffer view = data.slice().order(data.order());
    return new NdArray(dtype, shape.clone(), view, null);
  }

  /** An array over {@code memory}'s bytes [0, size), which the caller checked fit. */
  static NdArray over(SharedBuffer memory, ByteBuffer bytes, DType dtype, int[] shape) {
    return new NdArray(dtype, shape.clone(), bytes, memory);
  }

  public DType dtype() {
    return dtype;
  }

  /** A copy of the shape. Python: {@code a.shape}. */
  public int[] shape() {
    return shape.clone();
  }

  /** Python: {@code a.size}, the number of elements. */
  public long size() {
    long size = 1;
    for (int n : shape) size *= n;
    return size;
  }

  /** Python: {@code a.nbytes}, the size of the elements in bytes. */
  public long byteSize() {
    return size() * dtype.itemSize();
  }

  /** Whether the elements lie in a buffer ({@link #wrap(DType, int[], ByteBuffer)}). */
  public boolean inBuffer() {
    return bytes != null;
  }

  /**
   * The elements in C order as bytes. For an array over a buffer: a view of that memory, no copy
   * (read-only if the memory is, as a received bulk array's is). For an array over a Java array: a
   * new little-endian buffer holding a copy.
   */
  public ByteBuffer buffer() {
    if (bytes != null) return bytes.duplicate().order(bytes.order());
    ByteBuffer copy = ByteBuffer.allocate(Math.toIntExact(byteSize()))
        .order(ByteOrder.LITTLE_ENDIAN);
    copyTo(copy);
    return copy.clear();
  }

  /** Writes the elements of an array over a Java array into {@code target}, in its byte order. */
  void copyTo(ByteBuffer target) {
    if (data instanceof boolean[] a) {
      for (boolean v : a) target.put((byte) (v ? 1 : 0));
    } else if (data instanceof byte[] a) {
      target.put(a);
    } else if (data instanceof short[] a) {
      target.asShortBuffer().put(a);
    } else if (data instanceof int[] a) {
      target.asIntBuffer().put(a);
    } else if (data instanceof long[] a) {
      target.asLongBuffer().put(a);
    } else if (data instanceof float[] a) {
      target.asFloatBuffer().put(a);
    } else if (data instanceof double[] a) {
      target.asDoubleBuffer().put(a);
    }
  }

  /**
   * The elements in C order. Over a Java array: that array itself, not a copy (like
   * {@code ByteBuffer.array()}), so a large array costs no copy. Over a buffer: a new Java array
   * holding a copy of the elements. Cast to {@code dtype().javaType()}'s array type.
   */
  public Object data() {
    if (data != null) return data;
    ByteBuffer b = bytes.duplicate().order(bytes.order());
    int slots = Math.toIntExact(size() * dtype.slotsPerElement());
    switch (dtype.javaType().getName()) {
      case "boolean" -> {
        boolean[] a = new boolean[slots];
        for (int i = 0; i < slots; i++) a[i] = b.get(i) != 0;
        return a;
      }
      case "byte" -> {
        byte[] a = new byte[slots];
        b.get(a);
        return a;
      }
      case "short" -> {
        short[] a = new short[slots];
        b.asShortBuffer().get(a);
        return a;
      }
      case "int" -> {
        int[] a = new int[slots];
        b.asIntBuffer().get(a);
        return a;
      }
      case "long" -> {
        long[] a = new long[slots];
        b.asLongBuffer().get(a);
        return a;
      }
      case "float" -> {
        float[] a = new float[slots];
        b.asFloatBuffer().get(a);
        return a;
      }
      default -> {
        double[] a = new double[slots];
        b.asDoubleBuffer().get(a);
        return a;
      }
    }
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof NdArray that && dtype == that.dtype
        && Arrays.equals(shape, that.shape) && Objects.deepEquals(data(), that.data());
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, Arrays.hashCode(shape), size());
  }

  @Override
  public String toString() {
    return "ndarray(dtype=" + dtype.name().toLowerCase(java.util.Locale.ROOT) + ", shape="
        + Arrays.toString(shape) + ")";
  }
}
