package dev.ferry.pickle;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An instance of an allowed Python class that has no Java type of its own: the class, how the
 * instance is made, the arguments, and the state that Python's {@code __reduce__} protocol carries
 * (Python: {@code (callable, args, state, listitems, dictitems)}).
 *
 * <p>Decoding makes one for every allowed global that is called or instantiated unless a {@link
 * PickleMapping} turns it into a Java type. Encoding one writes those parts back, so an object
 * that Java does not understand survives the round trip.
 *
 * <p>Equality is identity, as for Python objects by default: state may refer back to the object.
 */
public final class PyObject {

  /** How Python makes the instance before it applies the state. */
  public enum Construction {
    /** Python: {@code cls(*args)}; pickle opcode {@code REDUCE}. */
    CALL,
    /** Python: {@code cls.__new__(cls, *args)}; pickle opcode {@code NEWOBJ}. */
    NEW
  }

  private final PyGlobal type;
  private final Construction construction;
  private PyTuple args;
  private Object state;
  private final List<Object> listItems;
  private final Map<Object, Object> dictItems;

  private PyObject(PyGlobal type, Construction construction, PyTuple args, Object state,
      List<Object> listItems, Map<Object, Object> dictItems) {
    this.type = Objects.requireNonNull(type, "type");
    this.construction = Objects.requireNonNull(construction, "construction");
    this.args = Objects.requireNonNull(args, "args");
    this.state = state;
    this.listItems = listItems;
    this.dictItems = dictItems;
  }

  /** Python: {@code module.name(*args)}, with no state. */
  public static PyObject call(String qualifiedName, Object... args) {
    return of(PyGlobal.parse(qualifiedName), Construction.CALL, PyTuple.of(args), null);
  }

  /**
   * An object made by {@code construction} from {@code args}, then given {@code state} (Python:
   * {@code __setstate__(state)}, or an update of {@code __dict__}); {@code null} state means none.
   */
  public static PyObject of(PyGlobal type, Construction construction, PyTuple args, Object state) {
    return new PyObject(type, construction, args, state, List.of(), Map.of());
  }

  /** A copy of this object that also appends {@code items} after construction. */
  public PyObject withListItems(List<?> items) {
    return new PyObject(type, construction, args, state,
        Collections.unmodifiableList(new ArrayList<>(items)), dictItems);
  }

  /** A copy of this object that also sets {@code items} (Python: {@code obj[key] = value}). */
  public PyObject withDictItems(Map<?, ?> items) {
    return new PyObject(type, construction, args, state, listItems,
        Collections.unmodifiableMap(new LinkedHashMap<>(items)));
  }

  /** For the unpickler, which fills the object in as the opcodes arrive. */
  static PyObject open(PyGlobal type, Construction construction, PyTuple args) {
    return new PyObject(type, construction, args, null, new ArrayList<>(), new LinkedHashMap<>());
  }

  void state(Object state) {
    this.state = state;
  }

  void args(PyTuple args) {
    this.args = args;
  }

  void append(Object item) {
    listItems.add(item);
  }

  void setItem(Object key, Object value) {
    dictItems.put(key, value);
  }

  /** The class, like {@code collections.deque}. */
  public PyGlobal type() {
    return type;
  }

  public Construction construction() {
    return construction;
  }

  public PyTuple args() {
    return args;
  }

  /** What {@code BUILD} gave the object, often a {@code Map} of attributes; null if none. */
  public Object state() {
    return state;
  }

  /** Items appended after construction (Python: {@code listitems}); often empty. */
  public List<Object> listItems() {
    return Collections.unmodifiableList(listItems);
  }

  /** Items set after construction (Python: {@code dictitems}); often empty. */
  public Map<Object, Object> dictItems() {
    return Collections.unmodifiableMap(dictItems);
  }

  @Override
  public String toString() {
    String kind = construction == Construction.NEW ? ".__new__" : "";
    String shownState = state == null ? ""
        : " state=<" + (state == this ? "self" : state.getClass().getSimpleName()) + ">";
    return type + kind + args + shownState;
  }
}
