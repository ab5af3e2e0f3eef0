package dev.ferry.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The samples of one metric of one configuration in one workload, one per repetition, or the
 * reason it was skipped.
 */
final class Row {
  final String workload;
  final String configuration;
  final Metric metric;
  final List<Double> samples = new ArrayList<>();
  String skipped;

  /** The configuration this row's ratio is taken against (same workload and metric), or null. */
  String reference;

  /** Filled in after the run: median of this row over median of the reference row. */
  Double ratio;

  Row(String workload, String configuration, Metric metric) {
    this.workload = workload;
    this.configuration = configuration;
    this.metric = metric;
  }

  boolean hasSamples() {
    return skipped == null && !samples.isEmpty();
  }

  double median() {
    return Stats.median(samples);
  }
}
