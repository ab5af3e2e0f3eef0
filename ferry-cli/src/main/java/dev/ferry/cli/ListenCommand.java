package dev.ferry.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "listen",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Listen at ADDR and print every message received as a line; send nothing back.",
        "",
        "Prints 'listening on ADDR' first. With --codec bytes, a payload that is not valid "
            + "UTF-8 prints as 'hex:' followed by lowercase hex digits; with --codec pickle or "
            + "xmlrpc, each value prints as Python's print() shows it: a str as it is, anything "
            + "else as its repr. Drops clients and ends like echo.",
        ""})
final class ListenCommand implements Callable<Integer> {
  private final CliContext context;

  @Spec
  CommandSpec spec;

  @Mixin
  EndpointOptions endpoint;

  @Mixin
  ServeOptions serve;

  ListenCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws Exception {
    MessageCodec codec = endpoint.codec();
    PrintWriter out = context.out();
    LoopSessions.Factory onLoops = (lines, blocking) -> LoopSessions.listen(codec, lines, out);
    return ServeCommand.run(context, spec, endpoint, serve, onLoops, connection -> {
      while (true) {
        String line = codec.receiveLine(connection);
        out.println(line); // one lock per line: clients' lines never interleave
        out.flush();
      }
    });
  }
}
