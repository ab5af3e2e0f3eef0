package dev.ferry.internal.memory;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
import java.util.Optional;

/**
 * memfd_create, ftruncate, fcntl seals and close through {@code java.lang.foreign}, on Java 22
 * and later only. Ferry is built for Java 17, where that API does not exist, so everything here
 * is looked up reflectively once; on older runtimes (or where the lookup fails, e.g. native
 * access denied) {@link #available()} is false and callers fall back to unsealed tmpfs files.
 *
 * <p>Java 24 and later print a warning on the first restricted call unless the JVM runs with
 * {@code --enable-native-access=ALL-UNNAMED} (or {@code =dev.ferry} on the module path); the
 * {@code ferry} launcher passes it.
 */
final class MemFd {
  static final int F_SEAL_SEAL = 1;
  static final int F_SEAL_SHRINK = 2;
  static final int F_SEAL_GROW = 4;
  static final int F_SEAL_WRITE = 8;
  static final int F_SEAL_FUTURE_WRITE = 16;

  private static final int MFD_CLOEXEC = 1;
  private static final int MFD_ALLOW_SEALING = 2;
  private static final int F_ADD_SEALS = 1033;
  private static final int F_GET_SEALS = 1034;

  private static final Calls CALLS = Calls.load();

  private MemFd() {}

  /** The downcalls, or null where this runtime cannot make them. */
  private record Calls(MethodHandle memfdCreate, MethodHandle ftruncate, MethodHandle fcntl,
      MethodHandle close, Method arenaOfConfined, Method allocateFrom, Method closeArena) {

    static Calls load() {
      if (Runtime.version().feature() < 22) return null;
      try {
        Class<?> linkerType = Class.forName("java.lang.foreign.Linker");
        Class<?> lookupType = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> segmentType = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> layoutType = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueLayout = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> descriptorType = Class.forName("java.lang.foreign.FunctionDescriptor");
        Class<?> optionType = Class.forName("java.lang.foreign.Linker$Option");
        Class<?> arenaType = Class.forName("java.lang.foreign.Arena");
        Class<?> allocatorType = Class.forName("java.lang.foreign.SegmentAllocator");
        Object linker = linkerType.getMethod("nativeLinker").invoke(null);
        Object lookup = linkerType.getMethod("defaultLookup").invoke(linker);
        Object javaInt = valueLayout.getField("JAVA_INT").get(null);
        Object javaLong = valueLayout.getField("JAVA_LONG").get(null);
        Object address = valueLayout.getField("ADDRESS").get(null);
        Method of = descriptorType.getMethod("of", layoutType, layoutType.arrayType());
        Method find = lookupType.getMethod("find", String.class);
        // A method handle, not Method.invoke: the JDK then sees this module as the caller of the
        // restricted method, which --enable-native-access names.
        MethodHandle downcall = MethodHandles.lookup().unreflect(linkerType.getMethod(
            "downcallHandle", segmentType, descriptorType, optionType.arrayType())).asFixedArity();
        Method variadic = optionType.getMethod("firstVariadicArg", int.class);

        Object[] none = (Object[]) Array.newInstance(optionType, 0);
        Object[] variadicFrom2 = (Object[]) Array.newInstance(optionType, 1);
        variadicFrom2[0] = variadic.invoke(null, 2);
        class Binder {
          MethodHandle bind(String name, Object returns, Object[] options, Object... args)
              throws ReflectiveOperationException {
            Object symbol = ((Optional<?>) find.invoke(lookup, name)).orElseThrow();
            Object[] layouts = (Object[]) Array.newInstance(layoutType, args.length);
            System.arraycopy(args, 0, layouts, 0, args.length);
            Object descriptor = of.invoke(null, returns, layouts);
            try {
              return (MethodHandle) downcall.invoke(linker, symbol, descriptor, options);
            } catch (Throwable e) {
              throw new ReflectiveOperationException(e);
            }
          }
        }
        Binder b = new Binder();
        return new Calls(
            b.bind("memfd_create", javaInt, none, address, javaInt),
            b.bind("ftruncate", javaInt, none, javaInt, javaLong),
            b.bind("fcntl", javaInt, variadicFrom2, javaInt, javaInt, javaInt),
            b.bind("close", javaInt, none, javaInt),
            arenaType.getMethod("ofConfined"),
            allocatorType.getMethod("allocateFrom", String.class),
            arenaType.getMethod("close"));
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        return null;
      }
    }
  }

  /** Whether this runtime can create sealable memfds (Java 22+ with native access). */
  static boolean available() {
    return CALLS != null;
  }

  /**
   * A new memfd of {@code size} bytes that accepts seals, close-on-exec; its descriptor number.
   */
  static int create(String name, long size) throws IOException {
    Calls c = calls();
    int fd;
    try {
      Object arena = c.arenaOfConfined().invoke(null);
      try {
        Object cName = c.allocateFrom().invoke(arena, name);
        fd = (int) c.memfdCreate().invoke(cName, MFD_CLOEXEC | MFD_ALLOW_SEALING);
      } finally {
        c.closeArena().invoke(arena);
      }
    } catch (Throwable e) {
      throw new IOException("memfd_create failed: " + e, e);
    }
    if (fd < 0) throw new IOException("memfd_create failed");
    try {
      if ((int) c.ftruncate().invoke(fd, size) != 0) {
        throw new IOException("cannot make " + size + " bytes of shared memory");
      }
    } catch (IOException e) {
      close(fd);
      throw e;
    } catch (Throwable e) {
      close(fd);
      throw new IOException("ftruncate failed: " + e, e);
    }
    return fd;
  }

  /** Adds {@code seals} (F_SEAL_* bits) to memfd {@code fd}. */
  static void seal(int fd, int seals) throws IOException {
    int result;
    try {
      result = (int) calls().fcntl().invoke(fd, F_ADD_SEALS, seals);
    } catch (Throwable e) {
      throw new IOException("fcntl(F_ADD_SEALS) failed: " + e, e);
    }
    if (result != 0) throw new IOException("cannot seal descriptor " + fd + " with " + seals);
  }

  /** The seals of {@code fd}, or -1 where it takes none (not a memfd or tmpfs file). */
  static int seals(int fd) throws IOException {
    try {
      return (int) calls().fcntl().invoke(fd, F_GET_SEALS, 0);
    } catch (Throwable e) {
      throw new IOException("fcntl(F_GET_SEALS) failed: " + e, e);
    }
  }

  static void close(int fd) {
    try {
      calls().close().invoke(fd);
    } catch (Throwable e) {
      // nothing to add: the descriptor number was ours and is gone either way
    }
  }

  private static Calls calls() throws IOException {
    if (CALLS == null) throw new IOException("memfd needs Java 22 or later");
    return CALLS;
  }
}
