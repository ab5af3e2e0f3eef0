package dev.ferry.pickle.internal;

import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyComplex;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Python names for Java values, for error messages. */
final class Values {
  private Values() {}

  static String typeName(Object value) {
    if (value == null) return "NoneType";
    if (value instanceof Boolean) return "bool";
    if (value instanceof Integer || value instanceof Long || value instanceof BigInteger) {
      return "int";
    }
    if (value instanceof Double) return "float";
    if (value instanceof String) return "str";
    if (value instanceof byte[]) return "bytes";
    if (value instanceof PyBytearray) return "bytearray";
    if (value instanceof PyTuple) return "tuple";
    if (value instanceof List) return "list";
    if (value instanceof Map) return "dict";
    if (value instanceof FrozenSet) return "frozenset";
    if (value instanceof Set) return "set";
    if (value instanceof PyComplex) return "complex";
    if (value instanceof BigDecimal) return "decimal.Decimal";
    if (value instanceof NdArray) return "numpy.ndarray";
    if (value instanceof PyGlobal global) return "global " + global;
    if (value instanceof PyObject object) return object.type().qualifiedName();
    if (value instanceof Unpickler.Pending pending) return pending.what();
    return value.getClass().getName();
  }
}
