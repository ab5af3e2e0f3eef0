package dev.ferry.cli;

import dev.ferry.Address;
import dev.ferry.AuthKey;
import dev.ferry.pickle.ResourceSharer;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
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
            + "every client at once on a few event-loop threads. A client that fails the handshake or breaks the "
            + "protocol is dropped with one 'dropped client: REASON' line on stderr; the others "
            + "carry on. Runs until SIGTERM or SIGINT, or until N connections were served, and "
            + "exits 0 either way, with the socket file removed.",
        "",
        "With --codec pickle on a unix address, connections inside messages pass through: a "
            + "Python client whose multiprocessing.current_process().authkey is the sharer key "
            + "(--sharer-authkey-hex, else --authkey-hex) gets back working connections to the "
            + "same peers. Over tcp, or with no key, a message holding a connection is answered "
            + "with a RuntimeError naming the reason and one 'refused message: REASON' line; the "
            + "client stays connected.",
        ""})
final class EchoCommand implements Callable<Integer> {
  private final CliContext context;

  @Spec
  CommandSpec spec;

  @Mixin
  EndpointOptions endpoint;

  @Mixin
  ServeOptions serve;

  @Option(names = "--sharer-authkey-hex", paramLabel = "HEX",
      converter = SharerKeyConverter.class,
      description = "With --codec pickle: the key of the resource sharer that passes connections "
          + "inside messages (Python: multiprocessing.current_process().authkey). "
          + "Default: the --authkey-hex key.")
  AuthKey sharerKey;

  @Option(names = "--bulk",
      description = "With --codec pickle on a unix address: also echo bulk messages "
          + "(ferry_bulk.send), whose large buffers travel as shared memory, sending the same "
          + "memory back with no copy; plain pickles still echo as usual. One thread per client.")
  boolean bulk;

  EchoCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws Exception {
    MessageCodec codec = endpoint.codec();
    if (bulk) BulkEcho.check(spec, codec, endpoint.address);
    if (!(codec instanceof MessageCodec.Pickle pickle)) {
      if (sharerKey != null) {
        throw new ParameterException(spec.commandLine(),
            "--sharer-authkey-hex needs --codec pickle (the codec is " + codec.cliName() + ")");
      }
      return serve(codec);
    }
    AuthKey key = sharerKey != null ? sharerKey : endpoint.authKey;
    if (endpoint.address instanceof Address.Tcp) {
      return serve(pickle.refusingConnections(
          "connections cannot travel over tcp: they need a unix address"));
    }
    if (key == null) {
      return serve(pickle.refusingConnections("no key to share connections with: start echo "
          + "with --authkey-hex or --sharer-authkey-hex"));
    }
    try (ResourceSharer sharer = ResourceSharer.start(key)) {
      return serve(pickle.carrying(sharer));
    }
  }

  private int serve(MessageCodec codec) throws Exception {
    PrintWriter err = context.err();
    if (bulk) {
      Server.Session session = BulkEcho.session((MessageCodec.Pickle) codec, err);
      return ServeCommand.run(context, spec, endpoint, serve, null, session);
    }
    LoopSessions.Factory onLoops = (lines, blocking) -> LoopSessions.echo(codec, blocking);
    return ServeCommand.run(context, spec, endpoint, serve, onLoops, connection -> {
      while (true) {
        try {
          codec.echo(connection);
        } catch (MessageCodec.RefusedMessage e) {
          err.println("refused message: " + e.getMessage()); // one lock per line
          err.flush();
        }
      }
    });
  }

  static final class SharerKeyConverter implements ITypeConverter<AuthKey> {
    @Override
    public AuthKey convert(String value) {
      try {
        return AuthKey.fromHex(value);
      } catch (IllegalArgumentException e) {
        throw new BadValueException("--sharer-authkey-hex is not hexadecimal (" + value.length()
            + " characters; expected an even number of 0-9a-f)");
      }
    }
  }
}
