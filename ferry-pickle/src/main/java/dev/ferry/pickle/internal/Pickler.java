package dev.ferry.pickle.internal;

import static dev.ferry.pickle.internal.Opcodes.*;

import dev.ferry.codec.CodecException;
import dev.ferry.pickle.NdArray;
import dev.ferry.pickle.PickleMapping;
import dev.ferry.pickle.PyBytearray;
import dev.ferry.pickle.PyConstant;
import dev.ferry.pickle.PyGlobal;
import dev.ferry.pickle.PyObject;
import dev.ferry.pickle.PyTuple;
import dev.ferry.pickle.SharedBuffer;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one value as a pickle of protocol 2 to 5, the way CPython's {@code _Pickler} does:
 * containers are memoized before their items so shared and recursive references survive, items
 * go in batches of 1000, and protocol 4+ output is cut into frames of about 64 KiB with large
 * strings and bytes outside frames. At protocol 2 the output is also readable by Python 2.7:
 * module names are the Python 2 ones and {@code bytes} travels as
 * {@code _codecs.encode(latin1_text, 'latin1')}, exactly as CPython 3 writes it.
 */
public final class Pickler extends PickleOutput {
  private static final int BATCH = 1000;
  private static final Map<String, String> PY2_NAMES =
      Map.of("str", "unicode", "range", "xrange");

  private final Settings settings;
  /** Containers and other mutable or identity-bearing values, by identity, as CPython's id(). */
  private final Map<Object, Integer> memo = new IdentityHashMap<>();
  private int memoCount;
  private final Map<String, Integer> globalMemo = new HashMap<>();
  private final Map<String, Integer> nameMemo = new HashMap<>();
  /** Strings by value: immutable, so equal ones may share an entry, and hashing is cheap. */
  private final Map<String, Integer> strMemo = new HashMap<>();
  private final Map<NdArray.DType, Integer> dtypeMemo = new EnumMap<>(NdArray.DType.class);

  private Pickler(OutputStream out, int protocol, Settings settings) {
    super(out, protocol);
    this.settings = settings;
  }

  /** Writes {@code value} as one pickle to {@code out}. */
  public static void dump(Object value, OutputStream out, int protocol, Settings settings)
      throws IOException {
    if (protocol < 2 || protocol > 5) throw new IllegalArgumentException("protocol: " + protocol);
    Pickler pickler = new Pickler(out, protocol, settings);
    out.write(new byte[] {(byte) PROTO, (byte) protocol});
    pickler.save(value, 0);
    pickler.op(STOP);
    pickler.commit(true);
  }

  // ------------------------------------------------------------------------------ memo

  private void memoize(Object value) {
    int index = memoCount++;
    memo.put(value, index);
    putIndex(index);
  }

  private void putIndex(int index) {
    if (protocol >= 4) {
      op(MEMOIZE);
    } else if (index < 256) {
      op(BINPUT, index);
    } else {
      op(LONG_BINPUT);
      le(index, 4);
    }
  }

  private boolean saveGet(Object value) {
    Integer index = memo.get(value);
    if (index == null) return false;
    get(index);
    return true;
  }

  private void get(int index) {
    if (index < 256) {
      op(BINGET, index);
    } else {
      op(LONG_BINGET);
      le(index, 4);
    }
  }

  // ------------------------------------------------------------------------------ values

  private void save(Object value, int depth) throws IOException {
    if (depth > settings.maxDepth()) {
      throw new CodecException("value nested deeper than " + settings.maxDepth());
    }
    commit(false);
    if (value == null) {
      op(NONE);
    } else if (value instanceof Boolean b) {
      op(b ? NEWTRUE : NEWFALSE);
    } else if (value instanceof Integer || value instanceof Long || value instanceof Short
        || value instanceof Byte) {
      saveInt(((Number) value).longValue());
    } else if (value instanceof BigInteger big) {
      saveBigInteger(big);
    } else if (value instanceof Double || value instanceof Float) {
      op(BINFLOAT);
      long bits = Double.doubleToRawLongBits(((Number) value).doubleValue());
      ensure(8);
      for (int i = 7; i >= 0; i--) buf[count++] = (byte) (bits >>> (8 * i));
    } else if (value instanceof String s) {
      saveStr(s);
    } else if (value instanceof Character c) {
      saveStr(c.toString());
    } else if (saveGet(value)) {
      // Already written: a shared or recursive reference.
    } else {
      saveObject(value, depth);
    }
  }

  private void saveObject(Object value, int depth) throws IOException {
    PickleMapping<?> mapping = settings.byJavaClass().get(value.getClass());
    PyObject reference = settings.reference(value);
    if (reference != null) {
      savePyObject(reference, value, depth);
    } else if (mapping != null) {
      saveMapped(mapping, value, depth);
    } else if (value instanceof byte[] bytes) {
      saveBuffer(bytes, bytes.length);
    } else if (value instanceof ByteBuffer b) {
      saveBuffer(b, b.remaining());
    } else if (value instanceof SharedBuffer b) {
      saveBuffer(b, b.size());
    } else if (value instanceof PyBytearray b) {
      saveBytearray(b, depth);
    } else if (value instanceof PyTuple tuple) {
      saveTuple(tuple, depth);
    } else if (value instanceof PyConstant constant) {
      saveGlobal("builtins", constant.pythonName());
    } else if (saveReduced(value, depth)) {
      // A standard library type, written as a call.
    } else if (value instanceof List<?> list) {
      saveList(value, list, depth);
    } else if (value instanceof Map<?, ?> map) {
      saveDict(value, map.entrySet().iterator(), depth);
    } else if (value instanceof Set<?> set) {
      saveSet(set, depth);
    } else if (value instanceof char[] chars) {
      saveStr(new String(chars));
    } else if (value.getClass().isArray()) {
      saveList(value, JavaValues.arrayView(value), depth);
    } else if (value instanceof PyGlobal global) {
      saveGlobal(global.module(), global.name());
    } else if (value instanceof PyObject object) {
      savePyObject(object, value, depth);
    } else if (value instanceof NdArray array) {
      saveNdArray(array, depth);
    } else if (value instanceof Record record) {
      saveRecord(record, depth);
    } else {
      throw new CodecException("cannot pickle " + value.getClass().getName());
    }
  }

  private void saveInt(long n) {
    if (n >= 0 && n < 256) {
      op(BININT1, (int) n);
    } else if (n >= 0 && n < 65536) {
      op(BININT2);
      le(n, 2);
    } else if (n == (int) n) {
      op(BININT);
      le(n, 4);
    } else {
      saveLong(BigInteger.valueOf(n));
    }
  }

  private void saveBigInteger(BigInteger n) {
    if (n.bitLength() < 64) {
      saveInt(n.longValue());
    } else {
      saveLong(n);
    }
  }

  private void saveLong(BigInteger n) {
    byte[] bytes = Numbers.toLittleEndian(n);
    if (bytes.length < 256) {
      op(LONG1, bytes.length);
    } else {
      op(LONG4);
      le(bytes.length, 4);
    }
    raw(bytes);
  }

  private void saveStr(String s) throws IOException {
    Integer index = strMemo.get(s);
    if (index != null) {
      get(index);
      return;
    }
    byte[] utf8 = Text.encodeUtf8(s);
    boolean four = protocol >= 4;
    counted(four ? SHORT_BINUNICODE : -1, BINUNICODE, four ? BINUNICODE8 : -1, utf8);
    index = memoCount++;
    strMemo.put(s, index);
    putIndex(index);
  }

  private void saveBytes(byte[] bytes, Object identity) throws IOException {
    if (protocol >= 3) {
      counted(SHORT_BINBYTES, BINBYTES, protocol >= 4 ? BINBYTES8 : -1, bytes);
    } else if (bytes.length == 0) {
      saveGlobal("builtins", "bytes");
      op(EMPTY_TUPLE);
      op(REDUCE);
    } else {
      // What CPython 3 writes at protocol 2; Python 2.7 reads it as str.
      saveGlobal("_codecs", "encode");
      saveTuple(PyTuple.of(new String(bytes, StandardCharsets.ISO_8859_1), "latin1"), 0);
      op(REDUCE);
    }
    if (identity != null) memoize(identity);
  }

  /** A bytes-like value: out of band as a read-only memoryview, else in band as bytes. */
  private void saveBuffer(Object value, long length) throws IOException {
    if (settings.buffers() == null || !settings.buffers().write(value, length)) {
      saveBytes(Buffers.bytes(value), value);
      return;
    }
    saveGlobal("builtins", "memoryview");
    op(NEXT_BUFFER);
    op(READONLY_BUFFER);
    op(TUPLE1);
    op(REDUCE);
    memoize(value);
  }

  private void saveBytearray(PyBytearray b, int depth) throws IOException {
    if (protocol >= 5) {
      byte[] bytes = b.toByteArray();
      counted(-1, -1, BYTEARRAY8, bytes);
      memoize(b);
    } else {
      PyTuple args = b.length() == 0 ? PyTuple.empty() : PyTuple.of((Object) b.toByteArray());
      saveReduce("builtins", "bytearray", args, b, depth);
    }
  }

  private void saveTuple(PyTuple tuple, int depth) throws IOException {
    int n = tuple.size();
    if (n == 0) {
      op(EMPTY_TUPLE);
      return;
    }
    if (n > 3) op(MARK);
    for (Object item : tuple.items()) save(item, depth + 1);
    Integer index = memo.get(tuple);
    if (index != null) {
      // The tuple reached itself through a mutable item and is written already: drop the copy.
      if (n > 3) {
        op(POP_MARK);
      } else {
        for (int i = 0; i < n; i++) op(POP);
      }
      get(index);
      return;
    }
    op(n == 1 ? TUPLE1 : n == 2 ? TUPLE2 : n == 3 ? TUPLE3 : TUPLE);
    memoize(tuple);
  }

  private void saveList(Object identity, List<?> list, int depth) throws IOException {
    op(EMPTY_LIST);
    memoize(identity);
    Iterator<?> it = list.iterator();
    while (it.hasNext()) {
      Object first = it.next();
      if (!it.hasNext()) {
        save(first, depth + 1);
        op(APPEND);
        break;
      }
      op(MARK);
      save(first, depth + 1);
      for (int n = 1; n < BATCH && it.hasNext(); n++) save(it.next(), depth + 1);
      op(APPENDS);
    }
  }

  private void saveDict(Object identity, Iterator<? extends Map.Entry<?, ?>> it, int depth)
      throws IOException {
    op(EMPTY_DICT);
    memoize(identity);
    while (it.hasNext()) {
      Map.Entry<?, ?> first = it.next();
      if (!it.hasNext()) {
        saveKey(first.getKey(), depth + 1);
        save(first.getValue(), depth + 1);
        op(SETITEM);
        break;
      }
      op(MARK);
      saveKey(first.getKey(), depth + 1);
      save(first.getValue(), depth + 1);
      for (int n = 1; n < BATCH && it.hasNext(); n++) {
        Map.Entry<?, ?> e = it.next();
        saveKey(e.getKey(), depth + 1);
        save(e.getValue(), depth + 1);
      }
      op(SETITEMS);
    }
  }

  /** Python keys and set items must be hashable: a list goes as a tuple, a set as a frozenset. */
  private void saveKey(Object key, int depth) throws IOException {
    save(JavaValues.hashable(key, depth, settings.maxDepth()), depth);
  }

  private void saveSet(Set<?> set, int depth) throws IOException {
    boolean frozen = set instanceof FrozenSet;
    if (protocol < 4) {
      List<Object> items = new ArrayList<>(set.size());
      for (Object item : set) {
        items.add(JavaValues.hashable(item, depth + 1, settings.maxDepth()));
      }
      saveReduce("builtins", frozen ? "frozenset" : "set", PyTuple.of(items), set, depth);
      return;
    }
    if (frozen) {
      op(MARK);
      for (Object item : set) saveKey(item, depth + 1);
      Integer index = memo.get(set);
      if (index != null) {
        op(POP_MARK);
        get(index);
        return;
      }
      op(FROZENSET);
      memoize(set);
      return;
    }
    op(EMPTY_SET);
    memoize(set);
    Iterator<?> it = set.iterator();
    while (it.hasNext()) {
      op(MARK);
      saveKey(it.next(), depth + 1);
      for (int n = 1; n < BATCH && it.hasNext(); n++) saveKey(it.next(), depth + 1);
      op(ADDITEMS);
    }
  }

  private void saveRecord(Record record, int depth) throws IOException {
    saveDict(record, JavaValues.recordFields(record).entrySet().iterator(), depth);
  }

  private void saveGlobal(String module, String name) throws CodecException {
    if (module.indexOf('\n') >= 0 || name.indexOf('\n') >= 0) {
      throw new CodecException("newline in global name: " + module + "." + name);
    }
    String key = module + "." + name;
    Integer index = globalMemo.get(key);
    if (index != null) {
      get(index);
      return;
    }
    if (protocol >= 4) {
      saveName(module);
      saveName(name);
      op(STACK_GLOBAL);
    } else {
      if (protocol == 2 && module.equals("builtins")) {
        // Python 3's names for Python 2's, as CPython's fix_imports writes them.
        module = "__builtin__";
        name = PY2_NAMES.getOrDefault(name, name);
      }
      if (protocol == 2 && module.equals("copyreg")) module = "copy_reg";
      op(GLOBAL);
      raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }
    index = memoCount++;
    globalMemo.put(key, index);
    putIndex(index);
  }

  /** A module or global name, memoized by value as CPython's interned names are. */
  private void saveName(String name) throws CodecException {
    Integer index = nameMemo.get(name);
    if (index != null) {
      get(index);
      return;
    }
    byte[] utf8 = Text.encodeUtf8(name);
    if (utf8.length > 255) throw new CodecException("global name too long: " + name);
    op(SHORT_BINUNICODE, utf8.length);
    raw(utf8);
    index = memoCount++;
    nameMemo.put(name, index);
    putIndex(index);
  }

  private void saveReduce(String module, String name, PyTuple args, Object identity, int depth)
      throws IOException {
    saveGlobal(module, name);
    save(args, depth + 1);
    op(REDUCE);
    if (identity != null) memoize(identity);
  }

  private boolean saveReduced(Object value, int depth) throws IOException {
    Reductions.Reduction r = Reductions.of(value);
    if (r == null) return false;
    saveGlobal(r.module(), r.name());
    save(r.args(), depth + 1);
    op(REDUCE);
    memoize(value);
    Iterator<?> items = r.listItems().iterator();
    while (items.hasNext()) {
      op(MARK);
      for (int n = 0; n < BATCH && items.hasNext(); n++) save(items.next(), depth + 1);
      op(APPENDS);
    }
    Iterator<? extends Map.Entry<?, ?>> entries = r.dictItems().entrySet().iterator();
    while (entries.hasNext()) {
      op(MARK);
      for (int n = 0; n < BATCH && entries.hasNext(); n++) {
        Map.Entry<?, ?> e = entries.next();
        saveKey(e.getKey(), depth + 1);
        save(e.getValue(), depth + 1);
      }
      op(SETITEMS);
    }
    return true;
  }

  private void savePyObject(PyObject object, Object identity, int depth) throws IOException {
    saveGlobal(object.type().module(), object.type().name());
    save(object.args(), depth + 1);
    op(object.construction() == PyObject.Construction.NEW ? NEWOBJ : REDUCE);
    memoize(identity);
    if (!object.listItems().isEmpty()) {
      op(MARK);
      for (Object item : object.listItems()) save(item, depth + 1);
      op(APPENDS);
    }
    if (!object.dictItems().isEmpty()) {
      op(MARK);
      for (Map.Entry<Object, Object> e : object.dictItems().entrySet()) {
        saveKey(e.getKey(), depth + 1);
        save(e.getValue(), depth + 1);
      }
      op(SETITEMS);
    }
    if (object.state() != null) {
      save(object.state(), depth + 1);
      op(BUILD);
    }
  }

  @SuppressWarnings("unchecked")
  private <T> void saveMapped(PickleMapping<T> mapping, Object value, int depth)
      throws IOException {
    PyObject object = mapping.toPython((T) value);
    if (object == null) throw new CodecException(mapping + " gave null for " + value);
    savePyObject(object, value, depth);
  }

  // ---------------------------------------------------------------------------- numpy

  private void saveNdArray(NdArray array, int depth) throws IOException {
    if (settings.buffers() != null && settings.buffers().write(array, array.byteSize())) {
      // numpy's own protocol 5 form: _frombuffer(buffer, dtype, shape, order)
      saveGlobal("numpy.core.numeric", "_frombuffer");
      op(MARK);
      op(NEXT_BUFFER);
      op(READONLY_BUFFER);
      saveDtype(array.dtype());
      save(shape(array), depth + 1);
      saveStr("C");
      op(TUPLE);
      op(REDUCE);
      memoize(array);
      return;
    }
    saveGlobal("numpy.core.multiarray", "_reconstruct");
    saveGlobal("numpy", "ndarray");
    op(BININT1, 0);
    op(TUPLE1);
    saveBytes(new byte[] {'b'}, null);
    op(TUPLE3);
    op(REDUCE);
    memoize(array);
    op(MARK);
    op(BININT1, 1);
    save(shape(array), depth + 1);
    saveDtype(array.dtype());
    op(NEWFALSE);
    saveBytes(Numpy.littleEndianData(array), null);
    op(TUPLE);
    op(BUILD);
  }

  private static PyTuple shape(NdArray array) {
    List<Object> shape = new ArrayList<>();
    for (int n : array.shape()) shape.add(n);
    return new PyTuple(shape);
  }

  private void saveDtype(NdArray.DType type) throws CodecException {
    Integer index = dtypeMemo.get(type);
    if (index != null) {
      get(index);
      return;
    }
    saveGlobal("numpy", "dtype");
    byte[] code = type.code().getBytes(StandardCharsets.US_ASCII);
    op(BINUNICODE);
    le(code.length, 4);
    raw(code);
    op(NEWFALSE);
    op(NEWTRUE);
    op(TUPLE3);
    op(REDUCE);
    index = memoCount++;
    dtypeMemo.put(type, index);
    putIndex(index);
    // (3, order, None, None, None, -1, -1, 0), as numpy's dtype.__reduce__ gives its state
    char order = type.itemSize() == 1 ? '|' : '<';
    raw(new byte[] {MARK, BININT1, 3, BINUNICODE, 1, 0, 0, 0, (byte) order, NONE, NONE, NONE,
        BININT, -1, -1, -1, -1, BININT, -1, -1, -1, -1, BININT1, 0, TUPLE, BUILD});
  }
}
