package dev.ferry.pickle.internal;

import dev.ferry.pickle.PickleMapping;
import dev.ferry.pickle.PyGlobal;
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
 */
public record Settings(
    Set<String> allowed,
    Set<String> allowedModules,
    Map<PyGlobal, PickleMapping<?>> byPythonClass,
    Map<Class<?>, PickleMapping<?>> byJavaClass,
    int maxDepth,
    ObjectAccess access) {

  public Settings {
    allowed = Set.copyOf(allowed);
    allowedModules = Set.copyOf(allowedModules);
    byPythonClass = Map.copyOf(byPythonClass);
    byJavaClass = Map.copyOf(byJavaClass);
  }

  boolean isAllowed(PyGlobal global) {
    return allowed.contains(global.qualifiedName())
        || allowedModules.contains(global.module())
        || byPythonClass.containsKey(global);
  }
}
