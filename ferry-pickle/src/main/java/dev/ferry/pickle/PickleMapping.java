package dev.ferry.pickle;

import dev.ferry.codec.CodecException;
import java.util.Objects;

/**
 * Maps one Python class to one Java type, both ways. Registering a mapping also allows the Python
 * class. Decoding first builds the generic {@link PyObject} (class, args, state), then hands it to
 * {@link #fromPython}; encoding asks {@link #toPython} for the {@code PyObject} to write.
 *
 * <pre>{@code
 * PickleMapping.of("shapes.Point", Point.class,
 *     o -> new Point((Integer) ((Map<?, ?>) o.state()).get("x"), ...),
 *     p -> PyObject.of(new PyGlobal("shapes", "Point"), Construction.NEW, PyTuple.empty(),
 *         Map.of("x", p.x(), "y", p.y())));
 * }</pre>
 *
 * @param <T> the Java type
 */
public interface PickleMapping<T> {

  /** The Python class, like {@code shapes.Point}. */
  PyGlobal pythonClass();

  /** The Java type; encoding uses this mapping for instances of exactly this class. */
  Class<T> javaType();

  /** Turns a decoded instance into the Java value; throw {@link CodecException} to refuse it. */
  T fromPython(PyObject object) throws CodecException;

  /** Describes a Java value as the Python instance to write. */
  PyObject toPython(T value) throws CodecException;

  /** A decoding function that may refuse its input. */
  @FunctionalInterface
  interface FromPython<T> {
    T apply(PyObject object) throws CodecException;
  }

  /** An encoding function that may refuse its input. */
  @FunctionalInterface
  interface ToPython<T> {
    PyObject apply(T value) throws CodecException;
  }

  /** A mapping made of two functions. */
  static <T> PickleMapping<T> of(String qualifiedName, Class<T> javaType, FromPython<T> fromPython,
      ToPython<T> toPython) {
    PyGlobal pythonClass = PyGlobal.parse(qualifiedName);
    Objects.requireNonNull(javaType, "javaType");
    Objects.requireNonNull(fromPython, "fromPython");
    Objects.requireNonNull(toPython, "toPython");
    return new PickleMapping<>() {
      @Override
      public PyGlobal pythonClass() {
        return pythonClass;
      }

      @Override
      public Class<T> javaType() {
        return javaType;
      }

      @Override
      public T fromPython(PyObject object) throws CodecException {
        return fromPython.apply(object);
      }

      @Override
      public PyObject toPython(T value) throws CodecException {
        return toPython.apply(value);
      }

      @Override
      public String toString() {
        return "PickleMapping[" + pythonClass + " <-> " + javaType.getName() + "]";
      }
    };
  }
}
