package dev.ferry.pickle;

import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.Optional;

/**
 * A Python {@code collections.defaultdict}: a {@link LinkedHashMap} that keeps the name of its
 * default factory, so that it encodes back as a {@code defaultdict} with the same factory. The
 * factory is a global such as {@code builtins.list} or {@code builtins.int}; Java never calls it
 * ({@code get} of a missing key returns null, as for any map).
 */
public final class PyDefaultDict extends LinkedHashMap<Object, Object> {
  private static final long serialVersionUID = 1L;

  /** Transient: a PyGlobal is a record, not serializable; Java serialization is not a goal. */
  private final transient PyGlobal factory;

  /** Python: {@code defaultdict(None)}, a defaultdict without a factory. */
  public PyDefaultDict() {
    this.factory = null;
  }

  /** Python: {@code defaultdict(factory)}, for example {@code new PyGlobal("builtins", "list")}. */
  public PyDefaultDict(PyGlobal factory) {
    this.factory = Objects.requireNonNull(factory, "factory");
  }

  /** Python: {@code d.default_factory}; empty for {@code None}. */
  public Optional<PyGlobal> factory() {
    return Optional.ofNullable(factory);
  }
}
