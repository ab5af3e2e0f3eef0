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
 * The built-in codecs: raw bytes, UTF-8 text, XML-RPC values, and Java serialization behind an
 * allow-list.
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
   * XML-RPC values, as CPython's {@code multiprocessing.connection.XmlListener} and
   * {@code XmlClient} send them: {@code xmlrpc.client.dumps((obj,), None, None, None, 1)} in
   * UTF-8, a bare {@code <params>} fragment with one {@code <param>} (Python 2.7:
   * {@code xmlrpclib}, the same bytes). Written byte for byte as CPython writes them; read as
   * CPython's {@code loads} reads them.
   *
   * <table>
   *   <caption>Python and Java types</caption>
   *   <tr><th>XML-RPC</th><th>Python</th><th>decoded as</th><th>encoded from</th></tr>
   *   <tr><td>{@code int}, {@code i4}, {@code i8}</td><td>{@code int}</td>
   *       <td>{@link Integer}, else {@link Long}, else {@link java.math.BigInteger}</td>
   *       <td>any of those and {@link Short}, {@link Byte}, within 32 bits</td></tr>
   *   <tr><td>{@code double}</td><td>{@code float}</td><td>{@link Double}</td>
   *       <td>{@link Double}, {@link Float}</td></tr>
   *   <tr><td>{@code string}</td><td>{@code str}</td><td colspan="2">{@link String}</td></tr>
   *   <tr><td>{@code boolean}</td><td>{@code bool}</td><td colspan="2">{@link Boolean}</td></tr>
   *   <tr><td>{@code nil}</td><td>{@code None}</td><td colspan="2">{@code null}</td></tr>
   *   <tr><td>{@code array}</td><td>{@code list}, {@code tuple}</td>
   *       <td>{@link java.util.ArrayList}</td><td>any {@link List}</td></tr>
   *   <tr><td>{@code struct}</td><td>{@code dict} with {@code str} keys</td>
   *       <td>{@link java.util.LinkedHashMap}, in the payload's order</td>
   *       <td>any {@link java.util.Map} with {@link String} keys</td></tr>
   *   <tr><td>{@code base64}</td><td>{@code bytes}, {@code xmlrpc.client.Binary}</td>
   *       <td colspan="2">{@code byte[]}</td></tr>
   *   <tr><td>{@code dateTime.iso8601}</td><td>{@code datetime}, {@code DateTime}</td>
   *       <td colspan="2">{@link java.time.LocalDateTime}, whole seconds, years 1 to 9999</td></tr>
   * </table>
   *
   * <p>Anything else, an int beyond 32 bits, a map key that is not a string, a string holding a
   * character XML cannot carry (such as U+0000), a container that contains itself or nesting
   * deeper than 500 fails the encode with a {@link CodecException} naming it; nothing is
   * written. A carriage return in a string is written as {@code &#13;}, so that it survives the
   * reader's line-end normalisation; CPython writes it raw and gets a line feed back.
   *
   * <p>Decoding accepts the {@code <params>} fragment, or a {@code <methodResponse>} or
   * {@code <methodCall>} around it, with exactly one {@code <param>}; a {@code <fault>}, any
   * other type, or malformed XML throws {@link CodecException}. The parser expands no entities
   * but XML's five predefined ones and character references, resolves nothing external, and
   * refuses a payload with a DTD.
   */
  public static Codec<Object> xmlRpc() {
    return XmlRpcCodec.INSTANCE;
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
