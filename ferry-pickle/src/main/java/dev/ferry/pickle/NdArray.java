package dev.ferry.pickle;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Objects;

/**
 * A numpy array of a numeric dtype: element type, shape, and the elements in C order (row-major,
 * last index fastest) in a Java primitive array. Decoding a numpy array written in Fortran order
 * reorders the elements. Encoding one needs numpy on the peer.
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
  private final Object data;

  private NdArray(DType dtype, int[] shape, Object data) {
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.shape = shape;
    this.data = data;
    if (data.getClass().getComponentType() != dtype.javaType()) {
      throw new IllegalArgumentException(
          "data " + data.getClass().getSimpleName() + " does not hold " + dtype);
    }
    long count = dtype.slotsPerElement();
    for (int n : shape) {
      if (n < 0) {
        throw new IllegalArgumentException("negative dimension: " + Arrays.toString(shape));
      }
      count *= n;
    }
    if (count != Array.getLength(data)) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " of " + dtype
          + " needs " + count + " array slots, not " + Array.getLength(data));
    }
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

  /**
   * The elements in C order: the array itself, not a copy (like {@code ByteBuffer.array()}), so a
   * large array costs no copy. Cast to {@code dtype().javaType()}'s array type.
   */
  public Object data() {
    return data;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof NdArray that && dtype == that.dtype
        && Arrays.equals(shape, that.shape) && Objects.deepEquals(data, that.data);
  }

  @Override
  public int hashCode() {
    return Objects.hash(dtype, Arrays.hashCode(shape), Array.getLength(data));
  }

  @Override
  public String toString() {
    return "ndarray(dtype=" + dtype.name().toLowerCase(java.util.Locale.ROOT) + ", shape="
        + Arrays.toString(shape) + ")";
  }
}
