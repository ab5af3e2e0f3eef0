package dev.ferry.internal.handle;

import dev.ferry.AuthKey;
import dev.ferry.Listener;
import dev.ferry.internal.connection.DescriptorChannel;
import dev.ferry.internal.connection.FramedConnection;
import dev.ferry.codec.CodecException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Java serialization in which connections travel as {@link PassedHandle}s beside the descriptors
 * attached to the frame, at any depth of the object graph.
 */
public final class HandleStreams {
  private HandleStreams() {}

  /**
   * A serialized message and the connections it refers to, in descriptor order: {@code passed}
   * holds connections and {@link Listener}s.
   */
  public record Encoded(byte[] payload, List<Object> passed) {}

  public static Encoded encode(Object message) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    List<Object> passed = new ArrayList<>();
    try (ObjectOutputStream out = new Replacing(bytes, passed)) {
      out.writeObject(message);
    }
    return new Encoded(bytes.toByteArray(), passed);
  }

  private static final class Replacing extends ObjectOutputStream {
    private final List<Object> passed;
    private final Map<Object, PassedHandle> seen = new IdentityHashMap<>();

    Replacing(ByteArrayOutputStream out, List<Object> passed) throws IOException {
      super(out);
      this.passed = passed;
      enableReplaceObject(true);
    }

    @Override
    protected Object replaceObject(Object obj) {
      DescriptorChannel channel = DescriptorChannel.of(obj);
      if (channel != null) {
        return seen.computeIfAbsent(obj, o -> {
          passed.add(channel);
          return new PassedHandle(passed.size() - 1, channel.receivingEnd(), channel.sendingEnd(),
              null, null);
        });
      }
      if (obj instanceof Listener listener) {
        return seen.computeIfAbsent(obj, o -> {
          passed.add(listener);
          return new PassedHandle(passed.size() - 1, false, false, listener.address().toString(),
              listener.options().authKey().map(AuthKey::toHex).orElse(null));
        });
      }
      return obj;
    }
  }

  /**
   * Decodes {@code payload}, turning each {@link PassedHandle} into what {@code rebuild} makes of
   * it. {@code rebuild} takes ownership of the descriptor it is given; every descriptor no handle
   * claimed is closed, and so is everything rebuilt if decoding fails.
   */
  public static Object decode(byte[] payload, FileDescriptor[] fds, Set<Class<?>> allowed,
      Rebuilder rebuild) throws IOException {
    FileDescriptor[] unclaimed = fds.clone();
    List<AutoCloseable> rebuilt = new ArrayList<>();
    boolean ok = false;
    try (Resolving in = new Resolving(payload, unclaimed, rebuild, rebuilt)) {
      in.setObjectInputFilter(filter(allowed, in.refused));
      Object value;
      try {
        value = in.readObject();
      } catch (InvalidClassException e) {
        if (in.refused[0] != null) throw new CodecException("class not allowed: " + in.refused[0], e);
        throw new CodecException("cannot deserialize: " + e.getMessage(), e);
      } catch (ClassNotFoundException e) {
        throw new CodecException("class not found: " + e.getMessage(), e);
      }
      ok = true;
      return value;
    } finally {
      Descriptors.closeAll(unclaimed, 0);
      if (!ok) {
        for (AutoCloseable c : rebuilt) {
          try {
            c.close();
          } catch (Exception e) {
            // Failing already; the decoding error is the one to report.
          }
        }
      }
    }
  }

  /** Builds a connection end that owns {@code fd}. */
  public interface Rebuilder {
    AutoCloseable rebuild(FileDescriptor fd, PassedHandle handle) throws IOException;
  }

  private static final class Resolving extends ObjectInputStream {
    final String[] refused = new String[1];
    private final FileDescriptor[] unclaimed;
    private final Rebuilder rebuild;
    private final List<AutoCloseable> rebuilt;

    Resolving(byte[] payload, FileDescriptor[] unclaimed, Rebuilder rebuild,
        List<AutoCloseable> rebuilt) throws IOException {
      super(new ByteArrayInputStream(payload));
      this.unclaimed = unclaimed;
      this.rebuild = rebuild;
      this.rebuilt = rebuilt;
      enableResolveObject(true);
    }

    @Override
    protected Object resolveObject(Object obj) throws IOException {
      if (!(obj instanceof PassedHandle handle)) return obj;
      int i = handle.index();
      if (i < 0 || i >= unclaimed.length || unclaimed[i] == null) {
        throw new CodecException("message refers to descriptor " + i + " of " + unclaimed.length
            + " attached, or to one twice");
      }
      FileDescriptor fd = unclaimed[i];
      unclaimed[i] = null;
      AutoCloseable end = rebuild.rebuild(fd, handle);
      rebuilt.add(end);
      return end;
    }
  }

  private static final List<Class<?>> ALWAYS = List.of(String.class, Boolean.class, Byte.class,
      Character.class, Short.class, Integer.class, Long.class, Float.class, Double.class,
      Number.class, Enum.class, PassedHandle.class);

  /** The allow-list of {@code Codecs.javaSerialization}, plus the handle placeholder. */
  private static ObjectInputFilter filter(Set<Class<?>> allowed, String[] refused) {
    Function<Class<?>, Boolean> ok = c -> c.isPrimitive() || allowed.contains(c) || ALWAYS.contains(c);
    return info -> {
      Class<?> c = info.serialClass();
      if (c == null) return ObjectInputFilter.Status.UNDECIDED;
      boolean array = c.isArray();
      while (c.isArray()) c = c.getComponentType();
      // Collections keep their elements in Object[]: the elements are checked one by one.
      if (array && (c == Object.class || c == Map.Entry.class)) return ObjectInputFilter.Status.ALLOWED;
      // The JDK checks what resolveObject returns too: the connections rebuilt from handles.
      if (ok.apply(c) || FramedConnection.class.isAssignableFrom(c)
          || Listener.class.isAssignableFrom(c)) {
        return ObjectInputFilter.Status.ALLOWED;
      }
      refused[0] = c.getName();
      return ObjectInputFilter.Status.REJECTED;
    };
  }
}
