package dev.ferry.internal.memory;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.Optional;

/**
 * {@code memfd_create} and {@code fcntl}'s seals through {@code java.lang.foreign}, on JDK 22 and
 * later, reached by reflection so that Ferry still compiles for and runs on Java 17 (where
 * {@link #available()} is empty). Linux only.
 */
final class Memfd {
  static final int F_SEAL_SEAL = 1;
  static final int F_SEAL_SHRINK = 2;
  static final int F_SEAL_GROW = 4;
  private static final int MFD_CLOEXEC = 1;
  private static final int MFD_ALLOW_SEALING = 2;
  private static final int F_ADD_SEALS = 1033;
  private static final int F_GET_SEALS = 1034;

  private static final Optional<Memfd> INSTANCE = load();

  private final MethodHandle memfdCreate;
  private final MethodHandle fcntl;
  private final MethodHandle close;
  /** {@code Arena.global().allocateFrom("ferry")}: the name, allocated once for good. */
  private final Object name;

  private Memfd(MethodHandle memfdCreate, MethodHandle fcntl, MethodHandle close, Object name) {
    this.memfdCreate = memfdCreate;
    this.fcntl = fcntl;
    this.close = close;
    this.name = name;
  }

  /** The calls, on JDK 22+ on Linux; empty elsewhere, or if the runtime refuses native access. */
  static Optional<Memfd> available() {
    return INSTANCE;
  }

  private static Optional<Memfd> load() {
    if (Runtime.version().feature() < 22 || !System.getProperty("os.name").equals("Linux")) {
      return Optional.empty();
    }
    try {
      Class<?> linkerClass = Class.forName("java.lang.foreign.Linker");
      Class<?> layoutClass = Class.forName("java.lang.foreign.MemoryLayout");
      Class<?> values = Class.forName("java.lang.foreign.ValueLayout");
      Object intLayout = values.getField("JAVA_INT").get(null);
      Object address = values.getField("ADDRESS").get(null);
      Object linker = linkerClass.getMethod("nativeLinker").invoke(null);
      Object lookup = linkerClass.getMethod("defaultLookup").invoke(linker);
      Class<?> arena = Class.forName("java.lang.foreign.Arena");
      Object global = arena.getMethod("global").invoke(null);
      Object name = Class.forName("java.lang.foreign.SegmentAllocator")
          .getMethod("allocateFrom", String.class).invoke(global, "ferry");
      MethodHandle create = downcall(linker, lookup, layoutClass, "memfd_create", -1,
          intLayout, address, intLayout);
      MethodHandle fcntl = downcall(linker, lookup, layoutClass, "fcntl", 2,
          intLayout, intLayout, intLayout, intLayout);
      MethodHandle close = downcall(linker, lookup, layoutClass, "close", -1, intLayout,
          intLayout);
      return Optional.of(new Memfd(create, fcntl, close, name));
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      // Native access refused (--enable-native-access=... without Ferry), or an API that
      // changed: the Java 17 path still works.
      return Optional.empty();
    }
  }

  /** A handle on C function {@code name}; {@code variadicFrom} is its first variadic argument. */
  private static MethodHandle downcall(Object linker, Object lookup, Class<?> layoutClass,
      String name, int variadicFrom, Object result, Object... arguments)
      throws ReflectiveOperationException {
    Class<?> linkerClass = Class.forName("java.lang.foreign.Linker");
    Class<?> segmentClass = Class.forName("java.lang.foreign.MemorySegment");
    Class<?> descriptorClass = Class.forName("java.lang.foreign.FunctionDescriptor");
    Class<?> optionClass = Class.forName("java.lang.foreign.Linker$Option");
    Optional<?> symbol = (Optional<?>) Class.forName("java.lang.foreign.SymbolLookup")
        .getMethod("find", String.class).invoke(lookup, name);
    if (symbol.isEmpty()) throw new NoSuchMethodException("no C function " + name);
    Object layouts = Array.newInstance(layoutClass, arguments.length);
    for (int i = 0; i < arguments.length; i++) Array.set(layouts, i, arguments[i]);
    Method of = descriptorClass.getMethod("of", layoutClass, layouts.getClass());
    Object descriptor = of.invoke(null, result, layouts);
    Object options = Array.newInstance(optionClass, variadicFrom < 0 ? 0 : 1);
    if (variadicFrom >= 0) {
      Array.set(options, 0, optionClass.getMethod("firstVariadicArg", int.class)
          .invoke(null, variadicFrom));
    }
    return (MethodHandle) linkerClass.getMethod("downcallHandle", segmentClass, descriptorClass,
        options.getClass()).invoke(linker, symbol.get(), descriptor, options);
  }

  /** A new memfd that allows sealing, close-on-exec; the caller closes the number. */
  int create() throws java.io.IOException {
    int fd = call(memfdCreate, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) throw new java.io.IOException("memfd_create failed");
    return fd;
  }

  /** Adds {@code seals} to descriptor {@code fd}. */
  void addSeals(int fd, int seals) throws java.io.IOException {
    if (call(fcntl, fd, F_ADD_SEALS, seals) < 0) {
      throw new java.io.IOException("cannot seal descriptor " + fd);
    }
  }

  /** The seals of descriptor {@code fd}, or -1 if it cannot have any (not a memfd or tmpfs). */
  int seals(int fd) {
    return call(fcntl, fd, F_GET_SEALS, 0);
  }

  void close(int fd) {
    call(close, fd);
  }

  private static int call(MethodHandle handle, Object... arguments) {
    try {
      return (int) handle.invokeWithArguments(arguments);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable e) {
      throw new IllegalStateException("native call failed", e);
    }
  }
}
