package dev.ferry.bench;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What {@link BenchRunner#run} measures and where it writes.
 *
 * @param quick fewer messages per trial (about a minute in all); see {@link #defaults()}
 * @param repetitions how many times each configuration runs, round-robin across configurations
 * @param json where to write the results as JSON, if anywhere
 * @param plot where to write a PNG bar chart of the ratios, if anywhere
 * @param only if present, only the workloads whose name it finds run (for instance
 *     {@code one-way 4 KiB}); the others are left out of the table
 */
public record BenchOptions(boolean quick, int repetitions, Optional<Path> json, Optional<Path> plot,
    Optional<Pattern> only) {
  public static final int DEFAULT_REPETITIONS = 5;
  public static final int QUICK_REPETITIONS = 3;

  public BenchOptions {
    Objects.requireNonNull(json, "json");
    Objects.requireNonNull(plot, "plot");
    Objects.requireNonNull(only, "only");
    if (repetitions < 1) throw new IllegalArgumentException("repetitions < 1: " + repetitions);
  }

  /** The full run: 5 repetitions, no files. */
  public static BenchOptions defaults() {
    return new BenchOptions(false, DEFAULT_REPETITIONS, Optional.empty(), Optional.empty(),
        Optional.empty());
  }

  /** The quick run: 3 repetitions of shorter trials, no files. */
  public static BenchOptions quickRun() {
    return new BenchOptions(true, QUICK_REPETITIONS, Optional.empty(), Optional.empty(),
        Optional.empty());
  }

  public BenchOptions withRepetitions(int n) {
    return new BenchOptions(quick, n, json, plot, only);
  }

  public BenchOptions withJson(Path file) {
    return new BenchOptions(quick, repetitions, Optional.of(file), plot, only);
  }

  public BenchOptions withPlot(Path file) {
    return new BenchOptions(quick, repetitions, json, Optional.of(file), only);
  }

  /** Runs only the workloads whose name {@code workloads} finds. */
  public BenchOptions withOnly(Pattern workloads) {
    return new BenchOptions(quick, repetitions, json, plot, Optional.of(workloads));
  }

  /** Whether the workload called {@code name} runs. */
  boolean runs(String name) {
    return only.map(p -> p.matcher(name).find()).orElse(true);
  }
}
