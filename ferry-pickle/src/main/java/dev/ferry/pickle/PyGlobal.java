package dev.ferry.pickle;

import java.util.Objects;

/**
 * A reference to a Python class or function by module and name, like the value of
 * {@code pickle.dumps(collections.OrderedDict)}. Decoding yields one only for an allowed global
 * that was not called; encoding one writes a {@code GLOBAL} opcode that the peer imports.
 */
public record PyGlobal(String module, String name) {
  public PyGlobal {
    Objects.requireNonNull(module, "module");
    Objects.requireNonNull(name, "name");
  }

  /** Parses {@code "module.name"}, splitting at the last dot. */
  public static PyGlobal parse(String qualifiedName) {
    int dot = qualifiedName.lastIndexOf('.');
    if (dot <= 0 || dot == qualifiedName.length() - 1) {
      throw new IllegalArgumentException("not a qualified name: " + qualifiedName);
    }
    return new PyGlobal(qualifiedName.substring(0, dot), qualifiedName.substring(dot + 1));
  }

  /** {@code "module.name"}. */
  public String qualifiedName() {
    return module + "." + name;
  }

  @Override
  public String toString() {
    return qualifiedName();
  }
}
