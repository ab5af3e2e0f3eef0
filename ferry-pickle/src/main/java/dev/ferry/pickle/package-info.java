/**
 * Python's pickle format for Ferry connections: {@link dev.ferry.pickle.PickleCodec} and the
 * value types for Python types that Java lacks ({@link dev.ferry.pickle.PyTuple}, {@link
 * dev.ferry.pickle.PyBytearray}, {@link dev.ferry.pickle.PyComplex}, {@link
 * dev.ferry.pickle.NdArray}), for instances of allowed Python classes ({@link
 * dev.ferry.pickle.PyObject}, {@link dev.ferry.pickle.PyGlobal}) and for mapping Python classes to
 * Java types ({@link dev.ferry.pickle.PickleMapping}).
 */
package dev.ferry.pickle;
