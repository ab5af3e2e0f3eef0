package dev.ferry.bench;

/**
 * One figure a trial reports.
 *
 * @param name what it is, like "median" or "msg/s"
 * @param unit printed after the number
 * @param higherIsBetter throughput (true) or time (false); decides how a ratio reads
 */
record Metric(String name, String unit, boolean higherIsBetter) {
  static final Metric MEDIAN_US = new Metric("median", "µs", false);
  static final Metric P99_US = new Metric("p99", "µs", false);
  static final Metric MESSAGES_PER_S = new Metric("msg/s", "msg/s", true);
  static final Metric MB_PER_S = new Metric("MB/s", "MB/s", true);
  static final Metric OPS_PER_S = new Metric("ops/s", "ops/s", true);
  static final Metric US_PER_CALL = new Metric("per call", "µs", false);
}
