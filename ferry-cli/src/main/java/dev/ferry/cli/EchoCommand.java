package dev.ferry.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "echo",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Listen at ADDR and send every message back unchanged (with --codec pickle or xmlrpc: "
            + "the same value, decoded and encoded again).",
        "",
        "Prints 'listening on ADDR' once bound (with the real port for tcp port 0), then serves "
            + "every client on its own thread. A client that fails the handshake or breaks the "
            + "protocol is dropped with one 'dropped client: REASON' line on stderr; the others "
            + "carry on. Runs until SIGTERM or SIGINT, or until N connections were served, and "
            + "exits 0 either way, with the socket file removed.",
        ""})
final class EchoCommand implements Callable<Integer> {
  private final CliContext context;

  @Spec
  CommandSpec spec;

  @Mixin
  EndpointOptions endpoint;

  @Mixin
  ServeOptions serve;

  EchoCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws Exception {
    MessageCodec codec = endpoint.codec();
    return ServeCommand.run(context, spec, endpoint, serve, connection -> {
      while (true) codec.echo(connection);
    });
  }
}
