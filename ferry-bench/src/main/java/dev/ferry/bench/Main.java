package dev.ferry.bench;

import java.nio.file.Path;

/**
 * Runs the harness without the CLI: {@code java -cp ... dev.ferry.bench.Main [--quick]
 * [--repetitions N] [--json FILE] [--plot FILE] [--only REGEX]}, or only the scale workload:
 * {@code ... dev.ferry.bench.Main --scale 10000} (see {@link ScaleBench}).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    boolean quick = false;
    Integer repetitions = null;
    Path json = null;
    Path plot = null;
    Integer scale = null;
    String only = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> quick = true;
        case "--repetitions" -> repetitions = Integer.parseInt(args[++i]);
        case "--json" -> json = Path.of(args[++i]);
        case "--plot" -> plot = Path.of(args[++i]);
        case "--scale" -> scale = Integer.parseInt(args[++i]);
        case "--only" -> only = args[++i];
        default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
      }
    }
    if (scale != null) {
      ScaleBench.run(scale, System.out, System.err);
      return;
    }
    BenchOptions options = quick ? BenchOptions.quickRun() : BenchOptions.defaults();
    if (repetitions != null) options = options.withRepetitions(repetitions);
    if (json != null) options = options.withJson(json);
    if (plot != null) options = options.withPlot(plot);
    if (only != null) options = options.withOnly(java.util.regex.Pattern.compile(only));
    BenchRunner.run(options, System.out, System.err);
  }
}
