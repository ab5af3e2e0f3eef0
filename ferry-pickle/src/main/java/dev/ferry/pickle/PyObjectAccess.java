package dev.ferry.pickle;

import dev.ferry.pickle.internal.ObjectAccess;

/** Gives the unpickler, and nobody else, the mutators of {@link PyObject}. */
final class PyObjectAccess implements ObjectAccess {
  static final PyObjectAccess INSTANCE = new PyObjectAccess();

  private PyObjectAccess() {}

  @Override
  public PyObject open(PyGlobal type, PyObject.Construction construction, PyTuple args) {
    return PyObject.open(type, construction, args);
  }

  @Override
  public void setState(PyObject object, Object state) {
    object.state(state);
  }

  @Override
  public void setArgs(PyObject object, PyTuple args) {
    object.args(args);
  }

  @Override
  public void append(PyObject object, Object item) {
    object.append(item);
  }

  @Override
  public void setItem(PyObject object, Object key, Object value) {
    object.setItem(key, value);
  }
}
