package dev.ferry.pickle.internal;

import static dev.ferry.pickle.internal.Opcodes.*;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one pickle (protocols 0 to 5) from a buffer. A stack machine like CPython's
 * {@code _Unpickler}, with these differences: a global resolves to a Java handler from {@link
 * Globals} or is refused, never to code; every declared length is checked against the bytes left
 * before anything is allocated; and the work that handlers do beyond the input size (copies and
 * conversions) is charged to a budget proportional to the input, so that no pickle expands
 * without bound. One instance reads one pickle; it is not thread safe.
 */
public final class Unpickler {
  /** Python 3.11+ refuses longer decimal integer strings for the same reason: parsing is slow. */
  static final int MAX_INT_DIGITS = 4300;

  private final ByteBuffer in;
  private final Settings settings;
  private final Globals globals;
  private final List<Object> stack = new ArrayList<>();

  private int[] marks = new int[16];
  private int markCount;
  private final Memo memo = new Memo();
  private boolean mapped;
  private long budget;
  private int opcodeOffset;

  private Unpickler(ByteBuffer payload, Settings settings) {
    this.in = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
    this.settings = settings;
    this.globals = new Globals(settings);
    this.budget = 8L * in.remaining() + (1 << 20);
  }

  /** Reads the pickle between {@code payload.position()} and its limit. */
  public static Object load(ByteBuffer payload, Settings settings) throws CodecException {
    Unpickler unpickler = new Unpickler(payload, settings);
    try {
      return unpickler.run();
    } catch (RuntimeException e) {
      // A bug here or in a registered mapping must not look like a transport failure.
      throw new CodecException("cannot unpickle at offset " + unpickler.opcodeOffset + ": " + e, e);
    } catch (StackOverflowError e) {
      // Only reachable when maxDepth is set beyond what this thread's stack holds.
      throw new CodecException("pickle nested too deeply for this thread's stack");
    }
  }

  private Object run() throws CodecException {
    while (in.hasRemaining()) {
      opcodeOffset = in.position();
      int op = in.get() & 0xff;
      if (op == STOP) return finish();
      step(op);
    }
    throw new CodecException("pickle truncated: no STOP opcode after " + in.position() + " bytes");
  }

  /** Where this pickle's out-of-band buffers come from; null for none. */
  OutOfBand buffers() {
    return settings.buffers();
  }

  private ByteBuffer nextBuffer() throws CodecException {
    if (settings.buffers() == null) {
      throw new CodecException("out-of-band buffer outside a bulk message");
    }
    ByteBuffer buffer = settings.buffers().next();
    // Input as much as the pickle's bytes: copies made of it are charged against it.
    budget += 8L * buffer.remaining();
    return buffer;
  }

  private Object finish() throws CodecException {
    Object result = popValue();
    if (mapped) result = new Mapper(settings).map(result);
    return result;
  }

  private void step(int op) throws CodecException {
    switch (op) {
      case PROTO -> readProto();
      case FRAME -> readFrame();
      case MARK -> pushMark();
      case POP -> popOrDropMark();
      case POP_MARK -> popMark();
      case DUP -> push(peek());
      case NONE -> push(null);
      case NEWTRUE -> push(Boolean.TRUE);
      case NEWFALSE -> push(Boolean.FALSE);
      case INT -> push(parseInt(readLine()));
      case BININT -> push(readInt32());
      case BININT1 -> push(readU8());
      case BININT2 -> push(readU16());
      case LONG -> push(parseLong(readLine()));
      case LONG1 -> push(Numbers.fromLittleEndian(readBytes(readU8())));
      case LONG4 -> push(Numbers.fromLittleEndian(readBytes(readSignedLength())));
      case FLOAT -> push(parseFloat(readLine()));
      case BINFLOAT -> push(Double.longBitsToDouble(Long.reverseBytes(in.getLong(takes(8)))));
      case STRING -> push(latin1(Text.decodeQuoted(readLine())));
      case BINSTRING -> push(latin1(readBytes(readSignedLength())));
      case SHORT_BINSTRING -> push(latin1(readBytes(readU8())));
      case UNICODE -> push(Text.decodeRawUnicodeEscape(readLine()));
      case BINUNICODE -> push(Text.decodeUtf8(readBytes(readU32())));
      case SHORT_BINUNICODE -> push(Text.decodeUtf8(readBytes(readU8())));
      case BINUNICODE8 -> push(Text.decodeUtf8(readBytes(readU64())));
      case BINBYTES -> push(readBytes(readU32()));
      case SHORT_BINBYTES -> push(readBytes(readU8()));
      case BINBYTES8 -> push(readBytes(readU64()));
      case BYTEARRAY8 -> push(PyBytearray.of(readBytes(readU64())));
      case NEXT_BUFFER -> push(nextBuffer());
      case READONLY_BUFFER -> peek();
      case EMPTY_TUPLE -> push(PyTuple.empty());
      case TUPLE1 -> pushTuple(1);
      case TUPLE2 -> pushTuple(2);
      case TUPLE3 -> pushTuple(3);
      case TUPLE -> push(new PyTuple(popMarked()));
      case EMPTY_LIST -> push(new ArrayList<>());
      case LIST -> push(new ArrayList<>(popMarked()));
      case EMPTY_DICT -> push(new LinkedHashMap<>());
      case DICT -> push(dict(popMarked()));
      case EMPTY_SET -> push(new LinkedHashSet<>());
      case FROZENSET -> push(frozenSet(popMarked()));
      case APPEND -> append(Collections.singletonList(popValue()));
      case APPENDS -> append(popMarked());
      case SETITEM -> setItems(popPair());
      case SETITEMS -> setItems(popMarked());
      case ADDITEMS -> addItems(popMarked());
      case GET -> push(memoGet(parseIndex(readLine())));
      case BINGET -> push(memoGet(readU8()));
      case LONG_BINGET -> push(memoGet(readU32()));
      case PUT -> memoPut(parseIndex(readLine()));
      case BINPUT -> memoPut(readU8());
      case LONG_BINPUT -> memoPut(readU32());
      case MEMOIZE -> memoPut(memo.size());
      case GLOBAL -> push(resolveGlobal(readLine(), readLine()));
      case STACK_GLOBAL -> stackGlobal();
      case REDUCE -> reduce();
      case BUILD -> build();
      case NEWOBJ -> newObj();
      case NEWOBJ_EX -> newObjEx();
      case INST -> inst();
      case OBJ -> obj();
      case PERSID, BINPERSID -> throw new CodecException("persistent ids are not supported");
      case EXT1, EXT2, EXT4 -> throw new CodecException("extension codes are not supported");
      default -> throw new CodecException(
          "unknown opcode " + Opcodes.describe(op) + " at offset " + opcodeOffset);
    }
  }

  // ---------------------------------------------------------------------------------- reading

  private int takes(int n) throws CodecException {
    if (in.remaining() < n) {
      throw new CodecException("pickle truncated at offset " + in.position() + ": need " + n
          + " bytes, " + in.remaining() + " left");
    }
    int at = in.position();
    in.position(at + n);
    return at;
  }

  private int readU8() throws CodecException {
    return in.get(takes(1)) & 0xff;
  }

  private int readU16() throws CodecException {
    return in.getShort(takes(2)) & 0xffff;
  }

  private int readInt32() throws CodecException {
    return in.getInt(takes(4));
  }

  private long readU32() throws CodecException {
    return readInt32() & 0xffffffffL;
  }

  private long readSignedLength() throws CodecException {
    int n = readInt32();
    if (n < 0) throw new CodecException("negative length " + n + " at offset " + opcodeOffset);
    return n;
  }

  private long readU64() throws CodecException {
    long n = in.getLong(takes(8));
    return n < 0 ? Long.MAX_VALUE : n;
  }

  /** Copies {@code n} bytes, after checking that the payload holds them. */
  private byte[] readBytes(long n) throws CodecException {
    if (n > in.remaining()) {
      throw new CodecException("declared length " + Long.toUnsignedString(n) + " > "
          + in.remaining() + " bytes left at offset " + opcodeOffset);
    }
    byte[] bytes = new byte[(int) n];
    in.get(bytes);
    return bytes;
  }

  private byte[] readLine() throws CodecException {
    int start = in.position();
    for (int i = start; i < in.limit(); i++) {
      if (in.get(i) == '\n') {
        byte[] line = new byte[i - start];
        in.get(line);
        in.get();
        return line;
      }
    }
    throw new CodecException("pickle truncated at offset " + opcodeOffset + ": no end of line");
  }

  private static String latin1(byte[] bytes) {
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  private static String ascii(byte[] line) throws CodecException {
    for (byte b : line) {
      if (b < 0x20) throw new CodecException("bad character in text argument: " + (b & 0xff));
    }
    return latin1(line);
  }

  private void readProto() throws CodecException {
    int proto = readU8();
    if (proto > 5) throw new CodecException("unsupported pickle protocol: " + proto);
  }

  private void readFrame() throws CodecException {
    // Frames only group opcodes for buffered reading; the whole payload is in memory already.
    long length = readU64();
    if (length > in.remaining()) {
      throw new CodecException("frame length " + length + " > " + in.remaining() + " bytes left");
    }
  }

  private Object parseInt(byte[] line) throws CodecException {
    String s = ascii(line).strip();
    if (s.equals("00")) return Boolean.FALSE;
    if (s.equals("01")) return Boolean.TRUE;
    return parseDecimal(s);
  }

  private Object parseLong(byte[] line) throws CodecException {
    String s = ascii(line).strip();
    if (s.endsWith("L")) s = s.substring(0, s.length() - 1);
    return parseDecimal(s);
  }

  private static Object parseDecimal(String s) throws CodecException {
    int digits = s.startsWith("-") || s.startsWith("+") ? s.length() - 1 : s.length();
    if (digits > MAX_INT_DIGITS) {
      throw new CodecException("integer of " + digits + " digits > limit " + MAX_INT_DIGITS);
    }
    try {
      return Numbers.normalize(new BigInteger(s));
    } catch (NumberFormatException e) {
      throw new CodecException("bad integer: " + abbreviate(s));
    }
  }

  private static double parseFloat(byte[] line) throws CodecException {
    String s = ascii(line).strip();
    switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "inf", "+inf", "infinity" -> { return Double.POSITIVE_INFINITY; }
      case "-inf", "-infinity" -> { return Double.NEGATIVE_INFINITY; }
      case "nan", "+nan", "-nan" -> { return Double.NaN; }
      default -> { }
    }
    if (s.isEmpty() || !s.chars().allMatch(c -> "0123456789+-.eE".indexOf(c) >= 0)) {
      throw new CodecException("bad float: " + abbreviate(s));
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new CodecException("bad float: " + abbreviate(s));
    }
  }

  private static long parseIndex(byte[] line) throws CodecException {
    String s = ascii(line).strip();
    if (s.isEmpty() || s.length() > 18 || !s.chars().allMatch(Character::isDigit)) {
      throw new CodecException("bad memo index: " + abbreviate(s));
    }
    return Long.parseLong(s);
  }

  static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  // ---------------------------------------------------------------------------- the stacks

  private void push(Object value) {
    stack.add(value);
  }

  private Object peek() throws CodecException {
    if (stack.size() <= currentMark()) throw underflow();
    return stack.get(stack.size() - 1);
  }

  private void popOrDropMark() throws CodecException {
    // Like CPython: POP with nothing above the innermost mark drops the mark.
    if (markCount > 0 && stack.size() == currentMark()) {
      markCount--;
    } else {
      popRaw();
    }
  }

  private Object popRaw() throws CodecException {
    if (stack.size() <= currentMark()) throw underflow();
    return stack.remove(stack.size() - 1);
  }

  /** Pops a value that is about to go into a container, a call or the result. */
  private Object popValue() throws CodecException {
    return checkValue(popRaw());
  }

  private Object checkValue(Object value) throws CodecException {
    if (value instanceof Pending pending) {
      throw new CodecException(pending.what() + " used before its state was set");
    }
    return value;
  }

  private int currentMark() {
    return markCount == 0 ? 0 : marks[markCount - 1];
  }

  private void pushMark() {
    if (markCount == marks.length) marks = Arrays.copyOf(marks, Math.max(16, marks.length * 2));
    marks[markCount++] = stack.size();
  }

  private List<Object> popMarked() throws CodecException {
    if (markCount == 0) throw new CodecException("no MARK before opcode at offset " + opcodeOffset);
    int mark = marks[--markCount];
    List<Object> top = stack.subList(mark, stack.size());
    List<Object> items = new ArrayList<>(top);
    top.clear();
    for (Object item : items) checkValue(item);
    return items;
  }

  private void popMark() throws CodecException {
    popMarked();
  }

  private CodecException underflow() {
    return new CodecException("stack underflow at offset " + opcodeOffset);
  }

  private void pushTuple(int n) throws CodecException {
    if (stack.size() - currentMark() < n) throw underflow();
    Object[] items = new Object[n];
    for (int i = n - 1; i >= 0; i--) items[i] = popValue();
    push(PyTuple.of(items));
  }

  private List<Object> popPair() throws CodecException {
    Object value = popValue();
    Object key = popValue();
    return Arrays.asList(key, value);
  }

  // ------------------------------------------------------------------------------ containers

  private Map<Object, Object> dict(List<Object> items) throws CodecException {
    Map<Object, Object> map = new LinkedHashMap<>();
    putAll(map, items);
    return map;
  }

  private void putAll(Map<Object, Object> map, List<Object> items) throws CodecException {
    if ((items.size() & 1) != 0) throw new CodecException("odd number of items for a dict");
    for (int i = 0; i < items.size(); i += 2) {
      map.put(hashable(items.get(i)), items.get(i + 1));
    }
  }

  private Set<Object> frozenSet(List<Object> items) throws CodecException {
    for (Object item : items) hashable(item);
    return new FrozenSet(items);
  }

  Object hashable(Object key) throws CodecException {
    charge(Hashing.check(key, settings.maxDepth()));
    return key;
  }

  @SuppressWarnings("unchecked")
  private void append(List<Object> items) throws CodecException {
    Object target = peek();
    if (target instanceof ArrayList<?> list) {
      ((List<Object>) list).addAll(items);
    } else if (target instanceof PyObject object) {
      for (Object item : items) settings.access().append(object, item);
    } else {
      throw new CodecException("cannot append to " + Values.typeName(target));
    }
  }

  @SuppressWarnings("unchecked")
  private void setItems(List<Object> items) throws CodecException {
    Object target = peek();
    if (target instanceof LinkedHashMap<?, ?> map) {
      putAll((Map<Object, Object>) map, items);
    } else if (target instanceof PyObject object) {
      if ((items.size() & 1) != 0) throw new CodecException("odd number of items for a dict");
      for (int i = 0; i < items.size(); i += 2) {
        settings.access().setItem(object, hashable(items.get(i)), items.get(i + 1));
      }
    } else {
      throw new CodecException("cannot set items of " + Values.typeName(target));
    }
  }

  @SuppressWarnings("unchecked")
  private void addItems(List<Object> items) throws CodecException {
    Object target = peek();
    if (!(target instanceof LinkedHashSet<?> set)) {
      throw new CodecException("cannot add items to " + Values.typeName(target));
    }
    for (Object item : items) ((Set<Object>) set).add(hashable(item));
  }

  // ---------------------------------------------------------------------------------- memo

  private Object memoGet(long index) throws CodecException {
    return memo.get(index);
  }

  private void memoPut(long index) throws CodecException {
    Object value = peek();
    memo.put(index, value);
    if (value instanceof Pending pending) pending.memoKeys().add(index);
  }

  // ------------------------------------------------------------------- globals and objects

  private PyGlobal global(byte[] module, byte[] name) throws CodecException {
    return globals.check(Text.decodeUtf8(module), Text.decodeUtf8(name));
  }

  private Object resolveGlobal(byte[] module, byte[] name) throws CodecException {
    return globals.resolve(Text.decodeUtf8(module), Text.decodeUtf8(name));
  }

  /** A global named by a handler ({@code getattr}), allowed or refused like any other. */
  PyGlobal checkGlobal(String module, String name) throws CodecException {
    return globals.check(module, name);
  }

  private void stackGlobal() throws CodecException {
    Object name = popValue();
    Object module = popValue();
    if (!(module instanceof String m) || !(name instanceof String n)) {
      throw new CodecException("STACK_GLOBAL needs two str, not " + Values.typeName(module)
          + " and " + Values.typeName(name));
    }
    push(globals.resolve(m, n));
  }

  private void reduce() throws CodecException {
    Object args = popValue();
    Object callable = popValue();
    push(call(callable, args));
  }

  Object call(Object callable, Object args) throws CodecException {
    if (!(args instanceof PyTuple tuple)) {
      throw new CodecException("arguments must be a tuple, not " + Values.typeName(args));
    }
    return handler(callable).call(tuple, this);
  }

  Globals.Handler handler(Object callable) throws CodecException {
    if (!(callable instanceof PyGlobal global)) {
      throw new CodecException("not callable: " + Values.typeName(callable));
    }
    return globals.handler(global);
  }

  private void newObj() throws CodecException {
    Object args = popValue();
    Object cls = popValue();
    if (!(args instanceof PyTuple tuple)) {
      throw new CodecException("NEWOBJ arguments must be a tuple, not " + Values.typeName(args));
    }
    push(newObject(cls, tuple, Map.of()));
  }

  /** Python: {@code cls.__new__(cls, *args, **kwargs)}, for the opcodes and copyreg helpers. */
  Object newObject(Object cls, PyTuple args, Map<?, ?> kwargs) throws CodecException {
    Object object = handler(cls).newObject(args, kwargs, this);
    if (object == null) throw new CodecException("cannot create with __new__: " + cls);
    return object;
  }

  private void newObjEx() throws CodecException {
    Object kwargs = popValue();
    Object args = popValue();
    Object cls = popValue();
    if (!(args instanceof PyTuple tuple) || !(kwargs instanceof Map<?, ?> map)) {
      throw new CodecException("NEWOBJ_EX needs a tuple and a dict");
    }
    push(newObject(cls, tuple, map));
  }

  private void inst() throws CodecException {
    PyGlobal cls = global(readLine(), readLine());
    push(handler(cls).call(new PyTuple(popMarked()), this));
  }

  private void obj() throws CodecException {
    List<Object> items = popMarked();
    if (items.isEmpty()) throw underflow();
    Object cls = items.get(0);
    push(handler(cls).call(new PyTuple(items.subList(1, items.size())), this));
  }

  private void build() throws CodecException {
    Object state = popValue();
    Object target = peek();
    if (target instanceof PyObject object) {
      settings.access().setState(object, state);
    } else if (target instanceof Pending pending) {
      Object built = pending.build(state, this);
      stack.set(stack.size() - 1, built);
      for (long key : pending.memoKeys()) memo.put(key, built);
    } else if (state != null && !(state instanceof Map<?, ?> m && m.isEmpty())) {
      throw new CodecException("cannot set the state of " + Values.typeName(target));
    }
  }

  /** Creates the generic value for an allowed Python class. */
  PyObject open(PyGlobal type, PyObject.Construction construction, PyTuple args) {
    PyObject object = settings.access().open(type, construction, args);
    if (settings.byPythonClass().containsKey(type) || settings.readsReference(type)) {
      mapped = true;
    }
    return object;
  }

  /** Charges work beyond the input's size (copies, conversions) against the budget. */
  void charge(long units) throws CodecException {
    budget -= units;
    if (budget < 0) {
      throw new CodecException(
          "pickle expands beyond 8 times its size of " + in.limit() + " bytes");
    }
  }

  Settings settings() {
    return settings;
  }

  /** A value whose construction finishes at {@code BUILD}, like {@code uuid.UUID}. */
  abstract static class Pending {
    private final List<Long> memoKeys = new ArrayList<>(1);

    abstract String what();

    abstract Object build(Object state, Unpickler unpickler) throws CodecException;

    final List<Long> memoKeys() {
      return memoKeys;
    }
  }
}
