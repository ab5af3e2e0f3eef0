package dev.ferry.cli;

import dev.ferry.bench.BenchOptions;
import dev.ferry.bench.BenchRunner;
import dev.ferry.bench.ScaleBench;
import dev.ferry.bench.ServeBench;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Measure Ferry beside a C socketpair program, a raw JDK SocketChannel and CPython's "
            + "multiprocessing.connection, in one run on this machine.",
        "",
        "Prints a Markdown table on stdout (median, min and max over repetitions, and each "
            + "median as a ratio to its reference) and progress on stderr. Needs gcc for the C "
            + "reference and $(pyenv root)/versions/3.11* and 3.13* for CPython; what is "
            + "missing is named in the table.",
        ""})
final class BenchCommand implements Callable<Integer> {
  private final CliContext context;

  @Spec
  CommandSpec spec;

  @Option(names = "--quick", description = "Fewer messages and 3 repetitions: about a minute.")
  boolean quick;

  @Option(names = "--repetitions", paramLabel = "N",
      description = "Runs of each configuration, round-robin (default: 5, or 3 with --quick).")
  Integer repetitions;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
  Path json;

  @Option(names = "--plot", paramLabel = "FILE",
      description = "Also draw the ratios as a PNG bar chart.")
  Path plot;

  @Option(names = "--only", paramLabel = "REGEX",
      description = "Run only the workloads whose name this finds, e.g. 'one-way 4 KiB' or "
          + "'round trip|1 MiB'.")
  String only;

  @Option(names = "--scale", paramLabel = "N",
      description = "Run only the scale workload: N authenticated connections per kind (Unix, "
          + "TCP) held here and served through one WaitSet, their client ends in a child JVM; "
          + "prints connect and round-trip times, heap per connection and the cost of one ready "
          + "among 10, 1,000 and N registered. The full figure is 10000.")
  Integer scale;

  @Option(names = "--serve", paramLabel = "N",
      description = "Run only the server workload: start 'ferry echo', connect N authenticated "
          + "clients per kind (Unix, TCP) from here, 3 checked round trips on each at once; "
          + "prints the times and the server's threads and resident memory per client beside "
          + "the library's own async echo. The full figure is 5000.")
  Integer serve;

  BenchCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws IOException {
    if (serve != null) {
      if (scale != null) {
        throw new ParameterException(spec.commandLine(), "--serve and --scale run alone: pick one");
      }
      if (serve < 10) throw new ParameterException(spec.commandLine(), "--serve < 10: " + serve);
      try {
        ServeBench.run(serve, "ferry echo", echoCommand(), context.out(), context.err());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while benchmarking");
      }
      return 0;
    }
    if (scale != null) {
      if (scale < 10) throw new ParameterException(spec.commandLine(), "--scale < 10: " + scale);
      try {
        ScaleBench.run(scale, context.out(), context.err());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while benchmarking");
      }
      return 0;
    }
    BenchOptions options = quick ? BenchOptions.quickRun() : BenchOptions.defaults();
    if (repetitions != null) {
      if (repetitions < 1) {
        throw new ParameterException(spec.commandLine(), "--repetitions < 1: " + repetitions);
      }
      options = options.withRepetitions(repetitions);
    }
    if (json != null) options = options.withJson(json);
    if (plot != null) options = options.withPlot(plot);
    if (only != null) {
      try {
        options = options.withOnly(Pattern.compile(only));
      } catch (PatternSyntaxException e) {
        throw new ParameterException(spec.commandLine(),
            "--only is not a regular expression: " + only + " (" + e.getDescription() + ")");
      }
    }
    try {
      BenchRunner.run(options, context.out(), context.err());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while benchmarking");
    }
    return 0;
  }

  /** What the launcher gives {@code ferry echo} and {@code listen}: see the {@code ferry} script. */
  static final String SERVER_YOUNG_GENERATION = "-Xmn32m";

  /** {@code ferry echo} in a JVM of its own, started as the launcher starts it. */
  private static List<String> echoCommand() {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add(SERVER_YOUNG_GENERATION);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "echo"));
    return command;
  }
}
