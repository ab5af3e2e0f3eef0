package dev.ferry.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "ferry",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    synopsisSubcommandLabel = "COMMAND",
    description = "Message connections compatible with Python's multiprocessing.connection.",
    footer = {"", "Exit codes: 0 success, 1 failure (one line on stderr), 2 bad command line."})
final class FerryCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(),
        "missing command (one of: " + String.join(", ", spec.subcommands().keySet()) + ")");
  }
}
