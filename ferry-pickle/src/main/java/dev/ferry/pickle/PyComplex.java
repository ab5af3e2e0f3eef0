package dev.ferry.pickle;

/** A Python {@code complex} number. Python: {@code complex(real, imag)}. */
public record PyComplex(double real, double imag) {
  @Override
  public String toString() {
    return "(" + real + (imag < 0 || (imag == 0 && 1 / imag < 0) ? "" : "+") + imag + "j)";
  }
}
