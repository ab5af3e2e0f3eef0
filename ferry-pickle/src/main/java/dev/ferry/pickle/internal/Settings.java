package dev.ferry.pickle.internal;

import dev.ferry.Connection;
import dev.ferry.codec.CodecException;
import dev.ferry.pickle.ConnectionsNotCarriedException;
import dev.ferry.pickle.PickleMapping;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import java.util.Map;
import java.util.Set;

/**
 * What the public builder decided, for the pickler and unpickler.
 *
 * @param allowed qualified names of allowed Python globals, beyond the built-in data types
 * @param allowedModules modules all of whose globals are allowed
 * @param byPythonClass registered mappings by Python class
 * @param byJavaClass registered mappings by Java class
 * @param maxDepth the deepest nesting either direction accepts
 * @param access the unpickler's way to fill in a {@code PyObject}
 * @param references what this one pickle carries by reference; null when nothing is
 * @param buffers where this one pickle's out-of-band buffers go or come from; null for none
 */
public record Settings(
    Set<String> allowed,
    Set<String> allowedModules,
    Map<PyGlobal, PickleMapping<?>> byPythonClass,
    Map<Class<?>, PickleMapping<?>> byJavaClass,
    int maxDepth,
    ObjectAccess access,
    References references,
    OutOfBand buffers) {

  public Settings {
    allowed = Set.copyOf(allowed);
    allowedModules = Set.copyOf(allowedModules);
    byPythonClass = Map.copyOf(byPythonClass);
    byJavaClass = Map.copyOf(byJavaClass);
  }

  /** The same settings for one pickle that carries {@code references}. */
  public Settings with(References references) {
    return new Settings(allowed, allowedModules, byPythonClass, byJavaClass, maxDepth, access,
        references, buffers);
  }

  /** The same settings for one pickle whose large buffers travel out of band. */
  public Settings with(OutOfBand buffers) {
    return new Settings(allowed, allowedModules, byPythonClass, byJavaClass, maxDepth, access,
        references, buffers);
  }

  /** What to write for {@code value} if it is carried by reference, else null. */
  PyObject reference(Object value) throws CodecException {
    if (references != null) return references.write(value);
    if (value instanceof Connection) {
      throw new ConnectionsNotCarriedException(
          "cannot pickle " + value + ": the codec carries no connections");
    }
    return null;
  }

  /** Whether decoded instances of {@code type} are references to resolve. */
  boolean readsReference(PyGlobal type) {
    return references != null && references.reads(type);
  }

  boolean isAllowed(PyGlobal global) {
    return allowed.contains(global.qualifiedName())
        || allowedModules.contains(global.module())
        || byPythonClass.containsKey(global);
  }
}
