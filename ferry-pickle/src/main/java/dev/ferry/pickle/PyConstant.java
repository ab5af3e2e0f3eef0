package dev.ferry.pickle;

/** Python's built-in singletons other than {@code None}, {@code True} and {@code False}. */
public enum PyConstant {
  /** Python: {@code Ellipsis}, also written {@code ...}. */
  ELLIPSIS("Ellipsis"),
  /** Python: {@code NotImplemented}. */
  NOT_IMPLEMENTED("NotImplemented");

  private final String pythonName;

  PyConstant(String pythonName) {
    this.pythonName = pythonName;
  }

  /** The name in {@code builtins}: {@code "Ellipsis"} or {@code "NotImplemented"}. */
  public String pythonName() {
    return pythonName;
  }
}
