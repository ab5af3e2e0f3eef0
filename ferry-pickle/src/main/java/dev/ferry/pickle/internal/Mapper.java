package dev.ferry.pickle.internal;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PickleMapping;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replaces the generic values of registered Python classes by their Java values once the whole
 * pickle is read, because Python fills an object in over several opcodes ({@code BUILD} may come
 * long after construction). Runs only when a registered class occurs. An object that reaches
 * itself through its own state sees its generic form there.
 */
final class Mapper {
  private final Settings settings;
  private final Map<Object, Object> done = new IdentityHashMap<>();

  Mapper(Settings settings) {
    this.settings = settings;
  }

  Object map(Object value) throws CodecException {
    return map(value, 0);
  }

  @SuppressWarnings("unchecked")
  private Object map(Object value, int depth) throws CodecException {
    if (value == null || value instanceof String || value instanceof Number
        || value instanceof Boolean || value instanceof byte[]) {
      return value;
    }
    Object seen = done.get(value);
    if (seen != null) return seen;
    if (depth > settings.maxDepth()) {
      throw new CodecException("value nested deeper than " + settings.maxDepth());
    }
    done.put(value, value);
    if (value instanceof ArrayList<?> list) {
      List<Object> l = (List<Object>) list;
      for (int i = 0; i < l.size(); i++) l.set(i, map(l.get(i), depth + 1));
    } else if (value instanceof LinkedHashMap<?, ?> map) {
      Map<Object, Object> m = (Map<Object, Object>) map;
      List<Map.Entry<Object, Object>> entries = new ArrayList<>(m.entrySet());
      m.clear();
      for (Map.Entry<Object, Object> e : entries) {
        m.put(map(e.getKey(), depth + 1), map(e.getValue(), depth + 1));
      }
    } else if (value instanceof LinkedHashSet<?> set) {
      Set<Object> s = (Set<Object>) set;
      List<Object> items = new ArrayList<>(s);
      s.clear();
      for (Object item : items) s.add(map(item, depth + 1));
    } else if (value instanceof FrozenSet set) {
      List<Object> items = new ArrayList<>();
      for (Object item : set) items.add(map(item, depth + 1));
      Object mapped = new FrozenSet(items);
      done.put(value, mapped);
      return mapped;
    } else if (value instanceof PyTuple tuple) {
      List<Object> items = new ArrayList<>(tuple.size());
      boolean changed = false;
      for (Object item : tuple.items()) {
        Object m = map(item, depth + 1);
        changed |= m != item;
        items.add(m);
      }
      Object mapped = changed ? new PyTuple(items) : tuple;
      done.put(value, mapped);
      return mapped;
    } else if (value instanceof PyObject object) {
      settings.access().setArgs(object, (PyTuple) map(object.args(), depth + 1));
      if (object.state() != null) {
        settings.access().setState(object, map(object.state(), depth + 1));
      }
      if (settings.readsReference(object.type())) {
        Object referenced = settings.references().read(object);
        done.put(value, referenced);
        return referenced;
      }
      PickleMapping<?> mapping = settings.byPythonClass().get(object.type());
      if (mapping != null) {
        Object mapped = mapping.fromPython(object);
        done.put(value, mapped);
        return mapped;
      }
    }
    return value;
  }
}
