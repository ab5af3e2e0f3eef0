package dev.ferry.cli;

import dev.ferry.Connection;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The connections a decoded pickle holds, at any depth, to close when echo is done with them. */
final class Carried implements AutoCloseable {
  private final List<Connection> connections;

  private Carried(List<Connection> connections) {
    this.connections = connections;
  }

  /** Finds every connection in {@code value}: containers, tuples and Python objects' parts. */
  static Carried in(Object value) {
    List<Connection> found = new ArrayList<>();
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    Deque<Object> todo = new ArrayDeque<>();
    if (value != null) todo.push(value);
    while (!todo.isEmpty()) {
      Object v = todo.pop();
      if (!seen.add(v)) continue;
      if (v instanceof Connection c) {
        found.add(c);
      } else if (v instanceof Map<?, ?> m) {
        m.forEach((k, x) -> push(todo, k, x));
      } else if (v instanceof Collection<?> c) {
        c.forEach(x -> push(todo, x));
      } else if (v instanceof PyTuple t) {
        t.items().forEach(x -> push(todo, x));
      } else if (v instanceof PyObject o) {
        push(todo, o.args(), o.state(), o.listItems(), o.dictItems());
      }
    }
    return new Carried(found);
  }

  private static void push(Deque<Object> todo, Object... values) {
    for (Object v : values) {
      if (v != null) todo.push(v);
    }
  }

  /** Closes every connection found; the first failure is thrown, the others added to it. */
  @Override
  public void close() throws IOException {
    IOException failure = null;
    for (Connection c : connections) {
      try {
        c.close();
      } catch (IOException e) {
        if (failure == null) failure = e;
        else failure.addSuppressed(e);
      }
    }
    if (failure != null) throw failure;
  }
}
