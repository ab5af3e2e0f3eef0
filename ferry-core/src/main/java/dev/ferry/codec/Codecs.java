package dev.ferry.codec;

import java.io.ByteArrayInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The built-in codecs: raw bytes, UTF-8 text, and Java serialization behind an allow-list.
 */
public final class Codecs {
  private static final Codec<byte[]> BYTES = new Codec<>() {
    @Override
    public String name() {
      return "bytes";
    }

    @Override
    public void encode(byte[] value, OutputStream out) throws IOException {
      out.write(value);
    }

    @Override
    public byte[] decode(ByteBuffer payload) {
      byte[] bytes = new byte[payload.remaining()];
      payload.get(bytes);
      return bytes;
    }
  };

  private static final Codec<String> UTF8 = new Codec<>() {
    @Override
    public String name() {
      return "utf8";
    }

    @Override
    public void encode(String value, OutputStream out) throws IOException {
      out.write(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String decode(ByteBuffer payload) throws CodecException {
      try {
        return StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(payload)
            .toString();
      } catch (CharacterCodingException e) {
        throw new CodecException("message is not valid utf-8: " + e.getMessage(), e);
      }
    }
  };

  private Codecs() {}

  /** Payloads as they are. Python: {@code send_bytes} / {@code recv_bytes}. */
  public static Codec<byte[]> bytes() {
    return BYTES;
  }

  /**
   * Strings as UTF-8; a payload that is not valid UTF-8 throws {@link CodecException}. Python:
   * {@code send_bytes(s.encode())} / {@code recv_bytes().decode()}.
   */
  public static Codec<String> utf8() {
    return UTF8;
  }

  /**
   * Java serialization for Java peers, decoding only the classes in {@code allowed} (plus arrays
   * of them and of primitives, {@link String}, boxed primitives and enums' backing types listed).
   * Any other class in a stream is refused with a {@link CodecException} that names it, before an
   * instance is made. Never give this codec an unauthenticated peer with a broad allow-list.
   */
  public static <T extends Serializable> Codec<T> javaSerialization(Class<T> type,
      Set<Class<?>> allowed) {
    Objects.requireNonNull(type, "type");
    Set<Class<?>> copy = Set.copyOf(allowed);
    return new JavaSerialization<>(type, copy);
  }

  private static final class JavaSerialization<T> implements Codec<T> {
    private static final List<Class<?>> ALWAYS = List.of(String.class, Boolean.class, Byte.class,
        Character.class, Short.class, Integer.class, Long.class, Float.class, Double.class,
        Number.class, Enum.class);

    private final Class<T> type;
    private final Set<Class<?>> allowed;

    JavaSerialization(Class<T> type, Set<Class<?>> allowed) {
      this.type = type;
      this.allowed = allowed;
    }

    @Override
    public String name() {
      return "java";
    }

    @Override
    public void encode(T value, OutputStream out) throws IOException {
      try (ObjectOutputStream oos = new ObjectOutputStream(new NonClosing(out))) {
        oos.writeObject(value);
      }
    }

    @Override
    public T decode(ByteBuffer payload) throws IOException {
      byte[] bytes = new byte[payload.remaining()];
      payload.get(bytes);
      String[] refused = new String[1];
      ObjectInputFilter filter = info -> {
        Class<?> c = info.serialClass();
        if (c == null) return ObjectInputFilter.Status.UNDECIDED;
        boolean array = c.isArray();
        while (c.isArray()) c = c.getComponentType();
        // Collections keep their elements in Object[]: the elements are checked one by one.
        if (array && c == Object.class) return ObjectInputFilter.Status.ALLOWED;
        if (c.isPrimitive() || allowed.contains(c) || ALWAYS.contains(c) || c.isEnum()
            && allowed.contains(c)) {
          return ObjectInputFilter.Status.ALLOWED;
        }
        refused[0] = c.getName();
        return ObjectInputFilter.Status.REJECTED;
      };
      try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
        in.setObjectInputFilter(filter);
        Object value = in.readObject();
        if (!type.isInstance(value)) {
          throw new CodecException("expected " + type.getName() + ", got "
              + (value == null ? "null" : value.getClass().getName()));
        }
        return type.cast(value);
      } catch (InvalidClassException e) {
        if (refused[0] != null) throw new CodecException("class not allowed: " + refused[0], e);
        throw new CodecException("cannot deserialize: " + e.getMessage(), e);
      } catch (ClassNotFoundException e) {
        throw new CodecException("class not found: " + e.getMessage(), e);
      } catch (IOException e) {
        if (e instanceof CodecException) throw e;
        throw new CodecException("malformed java serialization stream: " + e.getMessage(), e);
      }
    }
  }

  /** Lets ObjectOutputStream flush into the caller's stream without closing it. */
  private static final class NonClosing extends FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
