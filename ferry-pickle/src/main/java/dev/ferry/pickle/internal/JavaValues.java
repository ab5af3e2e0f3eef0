package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyTuple;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Java values as the pickler writes them: records and arrays as containers, hashable keys. */
final class JavaValues {
  private JavaValues() {}

  /** A record's components by name, in declaration order: the dict that the record goes as. */
  static Map<Object, Object> recordFields(Record record) throws CodecException {
    RecordComponent[] components = record.getClass().getRecordComponents();
    Map<Object, Object> fields = new LinkedHashMap<>();
    for (RecordComponent component : components) {
      Method accessor = component.getAccessor();
      // Records are often package-private; reading one is fine wherever its module allows it.
      if (!accessor.trySetAccessible()) {
        throw new CodecException("cannot read record " + record.getClass().getName()
            + ": its package is not open to dev.ferry.pickle");
      }
      try {
        fields.put(component.getName(), accessor.invoke(record));
      } catch (IllegalAccessException | InvocationTargetException e) {
        throw new CodecException("cannot read record component "
            + record.getClass().getName() + "." + component.getName(), e);
      }
    }
    return fields;
  }

  /** Python keys and set items must be hashable: a list goes as a tuple, a set as a frozenset. */
  static Object hashable(Object value, int depth, int maxDepth) throws CodecException {
    if (depth > maxDepth) {
      throw new CodecException("value nested deeper than " + maxDepth);
    }
    if (value instanceof List<?> list) {
      List<Object> items = new ArrayList<>(list.size());
      for (Object item : list) items.add(hashable(item, depth + 1, maxDepth));
      return new PyTuple(items);
    }
    if (value instanceof Set<?> set && !(set instanceof FrozenSet)) {
      List<Object> items = new ArrayList<>(set.size());
      for (Object item : set) items.add(hashable(item, depth + 1, maxDepth));
      return new FrozenSet(items);
    }
    return value;
  }

  /** A primitive or object array seen as a list, for writing. */
  static List<Object> arrayView(Object array) {
    return new ArrayView(array);
  }

  /** A primitive or object array seen as a list, for writing. */
  private static final class ArrayView extends AbstractList<Object> {
    private final Object array;

    ArrayView(Object array) {
      this.array = array;
    }

    @Override
    public Object get(int index) {
      return Array.get(array, index);
    }

    @Override
    public int size() {
      return Array.getLength(array);
    }
  }
}
