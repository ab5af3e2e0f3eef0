package dev.ferry.bench;

import java.util.Arrays;
import java.util.List;

/** Order statistics of small samples. */
final class Stats {
  private Stats() {}

  /** The value at quantile {@code q} (0..1) of {@code sorted}, nearest rank. */
  static long quantile(long[] sorted, double q) {
    return sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))];
  }

  static double median(List<Double> values) {
    double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  static double min(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  static double max(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  static long[] sortedCopy(long[] samples) {
    long[] copy = samples.clone();
    Arrays.sort(copy);
    return copy;
  }
}
