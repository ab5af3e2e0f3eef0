package dev.ferry.cli;

import dev.ferry.Client;
import dev.ferry.Connection;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(
    name = "send",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Send messages to ADDR and print one reply per message.",
        "",
        "Sends each MESSAGE, or each line of stdin when none is given, as one message, waits "
            + "for its reply and prints the reply as a line. With --codec bytes, text goes out "
            + "as UTF-8 and replies print as UTF-8 with malformed bytes replaced. With --codec "
            + "pickle or xmlrpc, text goes out as a Python str and replies print as Python's "
            + "print() shows them: a str as it is, anything else as its repr. Exits 0, or 1 with "
            + "one line on stderr saying what went wrong.",
        ""})
final class SendCommand implements Callable<Integer> {
  private final CliContext context;

  @Mixin
  EndpointOptions endpoint;

  @Parameters(paramLabel = "MESSAGE", arity = "0..*", description = "The messages to send.")
  List<String> messages;

  SendCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws IOException {
    MessageCodec codec = endpoint.codec(); // a usage error comes before connecting
    try (Connection connection = connect()) {
      if (messages != null && !messages.isEmpty()) {
        for (String message : messages) exchange(connection, codec, message);
      } else {
        // Line by line, so an interactive session sees each reply as soon as it comes.
        BufferedReader lines = new BufferedReader(
            new InputStreamReader(context.in(), StandardCharsets.UTF_8));
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          exchange(connection, codec, line);
        }
      }
    }
    return 0;
  }

  private Connection connect() throws IOException {
    return Client.connect(endpoint.address(), endpoint.connectionOptions());
  }

  private void exchange(Connection connection, MessageCodec codec, String message)
      throws IOException {
    codec.send(connection, message);
    String reply;
    try {
      reply = codec.receiveReply(connection);
    } catch (EOFException e) {
      throw new CommandFailure("connection closed by " + endpoint.address() + " before it replied");
    }
    PrintWriter out = context.out();
    out.println(reply);
    out.flush();
  }
}
