package dev.ferry.pickle.internal;

import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;

/**
 * Lets the unpickler fill in a {@link PyObject} as the opcodes arrive ({@code BUILD},
 * {@code APPENDS} and {@code SETITEMS} follow construction), while the public type stays
 * unmodifiable for everyone else. The public package implements it.
 */
public interface ObjectAccess {
  PyObject open(PyGlobal type, PyObject.Construction construction, PyTuple args);

  void setState(PyObject object, Object state);

  void setArgs(PyObject object, PyTuple args);

  void append(PyObject object, Object item);

  void setItem(PyObject object, Object key, Object value);
}
