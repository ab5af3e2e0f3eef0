package dev.ferry.pickle;

import dev.ferry.codec.Codec;
import dev.ferry.codec.CodecException;
import dev.ferry.pickle.internal.FrozenSet;
import dev.ferry.pickle.internal.OutOfBand;
import dev.ferry.pickle.internal.Pickler;
import dev.ferry.pickle.internal.Settings;
import dev.ferry.pickle.internal.Unpickler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's pickle format: what {@code Connection.send(obj)} and {@code recv()} exchange in
 * CPython's {@code multiprocessing.connection}. Reads protocols 0 to 5 as CPython 2.7 to 3.14
 * writes them; writes protocol 2, 3, 4 or 5 as configured. {@code TYPES.md} in this module has
 * the two-way type table.
 *
 * <p>Safe by default: a pickle names Python globals (classes and functions) that
 * {@code pickle.loads} would import and call. This codec never loads or calls Java code for them.
 * The standard data types it knows ({@code datetime}, {@code decimal.Decimal}, {@code uuid.UUID},
 * sets, numpy arrays and a few more) are rebuilt from plain data; any other global must be allowed
 * with {@link Builder#allow} (it then decodes to a generic {@link PyObject}) or registered with a
 * {@link PickleMapping}, and is refused otherwise with a {@link CodecException} that names it.
 * Every declared length is checked against the payload before allocating, and a malformed pickle
 * fails with a {@code CodecException}.
 *
 * <p>Instances are immutable and safe for use by many threads and connections at once.
 */
public final class PickleCodec implements Codec<Object> {
  /** The protocol written unless configured: read by Python 3.4 and later, sent by 3.8 to 3.13. */
  public static final int DEFAULT_PROTOCOL = 4;

  /** The deepest nesting written or hashed unless configured; CPython's recursion limit. */
  public static final int DEFAULT_MAX_DEPTH = 1000;

  private static final PickleCodec STANDARD = builder().build();
  private static final Pattern VERSION = Pattern.compile("(\\d+)\\.(\\d+)(?:\\..*)?");

  private final int protocol;
  private final Settings settings;
  /** Null unless built with {@link Builder#connections}. */
  private final ResourceSharer sharer;

  private PickleCodec(int protocol, Settings settings, ResourceSharer sharer) {
    this.protocol = protocol;
    this.settings = settings;
    this.sharer = sharer;
  }

  private PickleCodec(Builder builder) {
    this.protocol = builder.protocol;
    this.sharer = builder.sharer;
    Map<PyGlobal, PickleMapping<?>> byPython = new HashMap<>();
    Map<Class<?>, PickleMapping<?>> byJava = new HashMap<>();
    for (PickleMapping<?> mapping : builder.mappings.values()) {
      byPython.put(mapping.pythonClass(), mapping);
      byJava.put(mapping.javaType(), mapping);
    }
    Set<String> allowed = new LinkedHashSet<>(builder.allowed);
    if (sharer != null) allowed.addAll(List.of(ResourceSharer.REBUILD, ResourceSharer.DUP_FD));
    this.settings = new Settings(allowed, builder.allowedModules, byPython, byJava,
        builder.maxDepth, PyObjectAccess.INSTANCE, null, null);
  }

  /** A codec with the defaults: protocol 4, only the built-in data types allowed. */
  public static PickleCodec standard() {
    return STANDARD;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The highest protocol that a peer running {@code pythonVersion} (like {@code "2.7.18"} or
   * {@code "3.13"}) reads, capped at what that version writes by default from 3.8 on: 2 for 2.x,
   * 3 for 3.0 to 3.3, 4 for 3.4 to 3.13, 5 for 3.14 and later.
   *
   * @throws IllegalArgumentException if the version is not {@code major.minor[...]} of 2.x or 3.x
   */
  public static int protocolFor(String pythonVersion) {
    Matcher m = VERSION.matcher(pythonVersion.strip());
    if (!m.matches()) throw new IllegalArgumentException("not a python version: " + pythonVersion);
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    if (major == 2) return 2;
    if (major != 3) {
      throw new IllegalArgumentException("unsupported python version: " + pythonVersion);
    }
    if (minor < 4) return 3;
    return minor < 14 ? 4 : 5;
  }

  /**
   * An unmodifiable set that encodes as a Python {@code frozenset}; decoding a {@code frozenset}
   * gives one. Copies {@code items}, keeping their order. (Any other {@code Set} encodes as a
   * {@code set}, except as a dict key or set item, where Python needs a {@code frozenset}.)
   */
  public static Set<Object> frozenSet(Collection<?> items) {
    return FrozenSet.of(items);
  }

  /** Whether {@code set} encodes as a Python {@code frozenset}. */
  public static boolean isFrozenSet(Set<?> set) {
    return set instanceof FrozenSet;
  }

  /** The protocol this codec writes. */
  public int protocol() {
    return protocol;
  }

  /**
   * This codec with every setting kept (allow-list, mappings, depth, connections) but writing
   * {@code protocol}.
   *
   * @throws IllegalArgumentException if {@code protocol} is not 2 to 5
   */
  public PickleCodec withProtocol(int protocol) {
    checkProtocol(protocol);
    return protocol == this.protocol ? this : new PickleCodec(protocol, settings, sharer);
  }

  /** Whether this codec carries connections ({@link Builder#connections}). */
  public boolean carriesConnections() {
    return sharer != null;
  }

  private static void checkProtocol(int protocol) {
    if (protocol < 2 || protocol > 5) {
      throw new IllegalArgumentException("protocol not in 2..5: " + protocol);
    }
  }

  @Override
  public String name() {
    return "pickle";
  }

  /**
   * Writes {@code value} as a pickle. Python: {@code pickle.dumps(value, protocol)}.
   *
   * @throws CodecException if the value holds a type that has no Python counterpart here, a
   *     date outside Python's years 1 to 9999, or nesting deeper than the limit
   */
  @Override
  public void encode(Object value, OutputStream out) throws IOException {
    encode(value, out, settings);
  }

  /** Writes with {@code base} settings, plus carried connections if this codec has a sharer. */
  private void encode(Object value, OutputStream out, Settings base) throws IOException {
    if (sharer == null) {
      dump(value, out, base);
      return;
    }
    CarriedConnections connections = new CarriedConnections(sharer);
    try {
      dump(value, out, base.with(connections));
    } catch (IOException | RuntimeException e) {
      connections.undo(e);
      throw e;
    }
  }

  private void dump(Object value, OutputStream out, Settings settings) throws IOException {
    try {
      Pickler.dump(value, out, protocol, settings);
    } catch (StackOverflowError e) {
      // Only reachable when maxDepth is set beyond what this thread's stack holds.
      throw new CodecException("value nested too deeply for this thread's stack");
    }
  }

  /**
   * Reads one pickle. Python: {@code pickle.loads(payload)}.
   *
   * @throws CodecException if the pickle is malformed or truncated, names a global that is not
   *     allowed, or asks for more than the payload holds
   */
  @Override
  public Object decode(ByteBuffer payload) throws IOException {
    return load(payload);
  }

  private Object load(ByteBuffer payload) throws CodecException {
    return load(payload, settings);
  }

  /** Reads with {@code base} settings, plus carried connections if this codec has a sharer. */
  private Object load(ByteBuffer payload, Settings base) throws CodecException {
    if (sharer == null) return Unpickler.load(payload, base);
    CarriedConnections connections = new CarriedConnections(sharer);
    try {
      return Unpickler.load(payload, base.with(connections));
    } catch (CodecException | RuntimeException e) {
      connections.undo(e);
      throw e;
    }
  }

  /** Protocol 5 with {@code buffers} taking the large buffers out of band: a bulk message. */
  void encodeBulk(Object value, OutputStream out, OutOfBand buffers) throws IOException {
    withProtocol(5).encode(value, out, settings.with(buffers));
  }

  /** Reads a bulk message's pickle, whose out-of-band buffers come from {@code buffers}. */
  Object decodeBulk(ByteBuffer payload, OutOfBand buffers) throws CodecException {
    return load(payload, settings.with(buffers));
  }

  /** Python: {@code pickle.dumps(value, protocol)}. */
  public byte[] dumps(Object value) throws CodecException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      encode(value, out);
    } catch (CodecException e) {
      throw e;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Python: {@code pickle.loads(pickle)}. */
  public Object loads(byte[] pickle) throws CodecException {
    return load(ByteBuffer.wrap(pickle));
  }

  @Override
  public String toString() {
    return "PickleCodec[protocol=" + protocol + (sharer == null ? "" : ", connections") + "]";
  }

  /** Configures a {@link PickleCodec}. Not thread safe. */
  public static final class Builder {
    private int protocol = DEFAULT_PROTOCOL;
    private int maxDepth = DEFAULT_MAX_DEPTH;
    private final Set<String> allowed = new LinkedHashSet<>();
    private final Set<String> allowedModules = new LinkedHashSet<>();
    private final Map<PyGlobal, PickleMapping<?>> mappings = new HashMap<>();
    private ResourceSharer sharer;

    private Builder() {}

    /** The protocol to write, 2 to 5. Reading accepts every protocol regardless. */
    public Builder protocol(int protocol) {
      checkProtocol(protocol);
      this.protocol = protocol;
      return this;
    }

    /** Writes the protocol that {@link #protocolFor} gives for the peer's Python version. */
    public Builder peer(String pythonVersion) {
      return protocol(protocolFor(pythonVersion));
    }

    /**
     * Allows Python globals by qualified name, like {@code "collections.deque"}, or every global
     * of a module with {@code "module.*"}. An allowed global decodes to a {@link PyObject} (or to
     * a {@link PyGlobal} when it is not called). No Python or Java code runs for it.
     */
    public Builder allow(String... qualifiedNames) {
      for (String name : qualifiedNames) {
        Objects.requireNonNull(name, "qualifiedName");
        if (name.endsWith(".*") && name.length() > 2) {
          allowedModules.add(name.substring(0, name.length() - 2));
        } else {
          allowed.add(PyGlobal.parse(name).qualifiedName());
        }
      }
      return this;
    }

    /** Maps a Python class to a Java type both ways, and allows the Python class. */
    public Builder register(PickleMapping<?> mapping) {
      Objects.requireNonNull(mapping, "mapping");
      mappings.put(mapping.pythonClass(), mapping);
      return this;
    }

    /**
     * The deepest nesting of containers to write, and of tuples and frozensets used as dict keys
     * or set items to read (Java hashes them recursively). Default {@value #DEFAULT_MAX_DEPTH}.
     */
    public Builder maxDepth(int maxDepth) {
      if (maxDepth < 1) throw new IllegalArgumentException("maxDepth < 1: " + maxDepth);
      this.maxDepth = maxDepth;
      return this;
    }

    /**
     * Carries connections inside messages, at any depth, both ways, with no call per connection.
     * Encoding writes every {@link dev.ferry.Connection} (a {@code Pipe} end, a one-way pipe's
     * {@code Receiver} or {@code Sender}, a Unix client or accepted connection) as CPython's
     * {@code rebuild_connection(DupFd(...), readable, writable)}, served by {@code sharer} as a
     * duplicate: the caller keeps its own copy, which from then on closes without shutting the
     * socket down, and Python's {@code recv()} gets a working connection of the same access.
     * Decoding turns every such form (Python's {@code send()} of a {@code Connection}) into a
     * working Ferry connection of the same access, fetched from the sending process's resource
     * sharer with {@code sharer}'s key; the caller owns and closes it.
     *
     * <p>Each reference is usable once, as in CPython; one nobody fetches is dropped after the
     * sharer's claim timeout. A pickle that fails part way withdraws what it shared and closes
     * what it fetched. Only Unix socket connections travel: encoding any other fails with a
     * {@link CodecException}. Decoding connects to the peer's sharer (at most
     * {@code 10 s} per step), so decode such messages where blocking is acceptable.
     */
    public Builder connections(ResourceSharer sharer) {
      this.sharer = Objects.requireNonNull(sharer, "sharer");
      return this;
    }

    public PickleCodec build() {
      return new PickleCodec(this);
    }
  }
}
