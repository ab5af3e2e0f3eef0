package dev.ferry.pickle;

import java.math.BigInteger;
import java.util.Objects;

/**
 * A Python {@code fractions.Fraction}, in lowest terms with a positive denominator (the compact
 * constructor normalizes, as Python does), so equal fractions are equal records.
 */
public record PyFraction(BigInteger numerator, BigInteger denominator) {
  public PyFraction {
    Objects.requireNonNull(numerator, "numerator");
    Objects.requireNonNull(denominator, "denominator");
    if (denominator.signum() == 0) throw new ArithmeticException("zero denominator: " + numerator);
    BigInteger gcd = numerator.gcd(denominator);
    if (denominator.signum() < 0) gcd = gcd.negate();
    numerator = numerator.divide(gcd);
    denominator = denominator.divide(gcd);
  }

  /** Python: {@code Fraction(numerator, denominator)}. */
  public static PyFraction of(long numerator, long denominator) {
    return new PyFraction(BigInteger.valueOf(numerator), BigInteger.valueOf(denominator));
  }

  /** Python's {@code str(f)}: {@code "3/4"}, or {@code "3"} for a whole number. */
  @Override
  public String toString() {
    return denominator.equals(BigInteger.ONE) ? numerator.toString()
        : numerator + "/" + denominator;
  }
}
