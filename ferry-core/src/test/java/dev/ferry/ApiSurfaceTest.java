package dev.ferry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileDescriptor;
import java.io.IOException;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectableChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What callers outside the module can see: the exported packages name no internal type in a
 * public signature, and {@code dev.ferry} holds public API types only, none of which hands out or
 * takes a raw descriptor or socket channel (streaming sources and sinks are API). The one
 * deliberate exception is a number, not a descriptor: {@code Receiver.descriptor()}, Python's
 * {@code fileno()}, which issue 14 asks for; taking a descriptor over goes through
 * {@code dev.ferry.handle.Inherited}, as passing one goes through {@code Handles}.
 */
class ApiSurfaceTest {
  private static final List<String> EXPORTED =
      List.of("dev.ferry", "dev.ferry.async", "dev.ferry.codec", "dev.ferry.handle");

  @Test
  void everyTopLevelTypeOfTheApiPackageIsPublic() throws Exception {
    List<String> hidden = new ArrayList<>();
    for (Class<?> type : topLevelTypes("dev.ferry")) {
      if (!Modifier.isPublic(type.getModifiers())) hidden.add(type.getName());
    }
    assertEquals(List.of(), hidden);
  }

  @Test
  void noPublicSignatureOfAnExportedPackageNamesAnInternalType() throws Exception {
    List<String> leaks = new ArrayList<>();
    for (String pkg : EXPORTED) {
      for (Class<?> type : topLevelTypes(pkg)) {
        for (Member m : visibleMembers(type)) {
          if (signature(m).contains("dev.ferry.internal.")) leaks.add(m.toString());
        }
      }
    }
    assertEquals(List.of(), leaks);
  }

  @Test
  void theApiPackageHandsOutNoDescriptorOrSocketChannel() throws Exception {
    List<String> raw = new ArrayList<>();
    for (Class<?> type : topLevelTypes("dev.ferry")) {
      for (Member m : visibleMembers(type)) {
        for (Class<?> used : typesIn(m)) {
          if (used == FileDescriptor.class || SelectableChannel.class.isAssignableFrom(used)
              || NetworkChannel.class.isAssignableFrom(used)) {
            raw.add(m.toString());
          }
        }
      }
    }
    assertEquals(List.of(), raw);
  }

  @Test
  void listenerIsSealedAroundOneImplementation() {
    assertTrue(Listener.class.isSealed());
    assertEquals(1, Listener.class.getPermittedSubclasses().length);
  }

  /** The public classes of {@code pkg} and their public nested classes, as compiled. */
  private static List<Class<?>> topLevelTypes(String pkg) throws IOException, URISyntaxException,
      ClassNotFoundException {
    Path root = Path.of(Listener.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path dir = root.resolve(pkg.replace('.', '/'));
    List<Class<?>> types = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".class") || name.contains("$") || name.equals("package-info.class")) {
          continue;
        }
        types.add(Class.forName(pkg + "." + name.substring(0, name.length() - 6)));
      }
    }
    return types;
  }

  private static List<Member> visibleMembers(Class<?> type) {
    List<Member> members = new ArrayList<>();
    if (!Modifier.isPublic(type.getModifiers())) return members;
    for (Class<?> nested : type.getDeclaredClasses()) {
      if (Modifier.isPublic(nested.getModifiers())) members.addAll(visibleMembers(nested));
    }
    for (Member m : type.getDeclaredMethods()) members.add(m);
    for (Member m : type.getDeclaredConstructors()) members.add(m);
    for (Member m : type.getDeclaredFields()) members.add(m);
    members.removeIf(m -> !(Modifier.isPublic(m.getModifiers())
        || Modifier.isProtected(m.getModifiers())) || m.isSynthetic());
    return members;
  }

  private static String signature(Member m) {
    if (m instanceof Field f) return f.toGenericString();
    return ((Executable) m).toGenericString();
  }

  private static List<Class<?>> typesIn(Member m) {
    List<Class<?>> types = new ArrayList<>();
    if (m instanceof Field f) {
      types.add(f.getType());
    } else {
      Executable e = (Executable) m;
      types.addAll(List.of(e.getParameterTypes()));
      if (e instanceof Method method) types.add(method.getReturnType());
    }
    return types;
  }
}
