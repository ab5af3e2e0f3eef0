package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.ConnectionsNotCarriedException;
import dev.ferry.pickle.PyConstant;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;
import java.util.HashMap;
import java.util.Map;

/**
 * Resolves the globals a pickle names. A global is either one of the data types that Ferry knows
 * (a Java {@link Handler} that builds the value from plain data), or an allowed class (a generic
 * {@link PyObject}), or refused. No global ever reaches reflection or class loading.
 */
final class Globals {

  /** What calling or instantiating an allowed global does. */
  interface Handler {
    /** Python: {@code global(*args)}; opcodes {@code REDUCE}, {@code INST}, {@code OBJ}. */
    Object call(PyTuple args, Unpickler unpickler) throws CodecException;

    /**
     * Python: {@code global.__new__(global, *args, **kwargs)}; opcode {@code NEWOBJ}. Returns
     * null if the global cannot be created that way.
     */
    default Object newObject(PyTuple args, Map<?, ?> kwargs, Unpickler unpickler)
        throws CodecException {
      return null;
    }
  }

  /** Python 2 module names that Python 3's unpickler renames (see {@code _compat_pickle}). */
  private static final Map<String, String> PY2_MODULES = Map.of(
      "__builtin__", "builtins",
      "copy_reg", "copyreg",
      "exceptions", "builtins");

  /** Python 2 names that Python 3's unpickler renames, and CPython 3 writes at protocol 2. */
  private static final Map<String, String> PY2_NAMES = Map.of(
      "unicode", "str",
      "long", "int",
      "xrange", "range");

  /** Globals that are values, not classes or functions. */
  private static final Map<String, PyConstant> CONSTANTS = Map.of(
      "builtins.Ellipsis", PyConstant.ELLIPSIS,
      "builtins.NotImplemented", PyConstant.NOT_IMPLEMENTED);

  /** How CPython 3.4+ pickles a connection (see {@code ResourceSharer}). */
  static final String REBUILD_CONNECTION = "multiprocessing.connection.rebuild_connection";

  private static final Map<String, Handler> BUILT_IN = new HashMap<>();

  static {
    BUILT_IN.putAll(Stdlib.handlers());
    BUILT_IN.putAll(DataTypes.handlers());
    BUILT_IN.putAll(Numpy.handlers());
  }

  private final Settings settings;

  Globals(Settings settings) {
    this.settings = settings;
  }

  /**
   * Returns what a {@code GLOBAL} opcode pushes: a {@link PyConstant} for the globals that are
   * values, else the global as {@link #check} allows it.
   */
  Object resolve(String module, String name) throws CodecException {
    PyGlobal global = check(module, name);
    PyConstant constant = CONSTANTS.get(global.qualifiedName());
    return constant != null ? constant : global;
  }

  /** Returns the global if it may be used, after Python 2 renames; refuses it otherwise. */
  PyGlobal check(String module, String name) throws CodecException {
    module = PY2_MODULES.getOrDefault(module, module);
    if (module.equals("builtins")) name = PY2_NAMES.getOrDefault(name, name);
    PyGlobal global = new PyGlobal(module, name);
    if (CONSTANTS.containsKey(global.qualifiedName())) return global;
    if (!BUILT_IN.containsKey(global.qualifiedName()) && !settings.isAllowed(global)) {
      if (global.qualifiedName().equals(REBUILD_CONNECTION)) {
        throw new ConnectionsNotCarriedException(
            "pickled connection, but the codec carries none: " + REBUILD_CONNECTION);
      }
      throw new CodecException("global not allowed: " + Unpickler.abbreviate(module + "." + name));
    }
    return global;
  }

  Handler handler(PyGlobal global) throws CodecException {
    Handler handler = BUILT_IN.get(global.qualifiedName());
    if (handler != null) return handler;
    if (!settings.isAllowed(global)) throw new CodecException("global not allowed: " + global);
    return new Generic(global);
  }

  /** An allowed class without a Java type: the value records how Python would make it. */
  private record Generic(PyGlobal type) implements Handler {
    @Override
    public Object call(PyTuple args, Unpickler unpickler) {
      return unpickler.open(type, PyObject.Construction.CALL, args);
    }

    @Override
    public Object newObject(PyTuple args, Map<?, ?> kwargs, Unpickler unpickler)
        throws CodecException {
      if (!kwargs.isEmpty()) {
        throw new CodecException("keyword arguments are not supported: " + type);
      }
      return unpickler.open(type, PyObject.Construction.NEW, args);
    }
  }
}
