package dev.ferry.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "echo",
    mixinStandardHelpOptions = true,
    description = {
        "Listen at ADDR and send every message back unchanged, serving clients concurrently.",
        "Prints 'listening on ADDR' once bound (the real port for :0). Clients that fail the",
        "handshake or break the protocol are dropped with one 'dropped client: ...' line on",
        "stderr. Runs until SIGTERM or until N connections have been served; exits 0 either way."})
final class EchoCommand implements Callable<Integer> {
  private final CliContext context;

  @Spec
  CommandSpec spec;

  @Mixin
  EndpointOptions endpoint;

  @Option(names = "--max-connections", paramLabel = "N",
      description = "Accept N connections, serve them to the end, then exit.")
  Integer maxConnections;

  EchoCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws Exception {
    MessageCodec codec = endpoint.codec;
    return ServeCommand.run(context, spec, endpoint, maxConnections, connection -> {
      while (true) codec.echo(connection);
    });
  }
}
