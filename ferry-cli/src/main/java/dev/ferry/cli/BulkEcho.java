package dev.ferry.cli;

import dev.ferry.Address;
import dev.ferry.pickle.Bulk;
import dev.ferry.pickle.ConnectionsNotCarriedException;
import dev.ferry.pickle.PickleCodec;
import dev.ferry.pickle.PyObject;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * {@code echo --codec pickle --bulk}: bulk messages (docs/BULK.md) go back as bulk messages whose
 * buffers are the very shared memory that came in, with no copy; plain pickle frames from stock
 * clients go back as plain pickles of the protocol they came in, as the plain echo answers them.
 * Each client has a thread of its own ({@link Server}): a bulk receive takes the descriptors that
 * came with a frame, which the event loops do not.
 */
final class BulkEcho {
  private BulkEcho() {}

  /** The options {@code --bulk} needs, or a parameter error naming what is missing. */
  static void check(CommandSpec spec, MessageCodec codec, Address address) {
    if (!(codec instanceof MessageCodec.Pickle)) {
      throw new ParameterException(spec.commandLine(),
          "--bulk needs --codec pickle (the codec is " + codec.cliName() + ")");
    }
    // null: --fd, whose descriptor is checked when the first bulk message comes
    if (address instanceof Address.Tcp) {
      throw new ParameterException(spec.commandLine(), "--bulk needs a unix address (unix:PATH or"
          + " unix:@NAME): descriptors cannot travel over " + address);
    }
  }

  /**
   * Serves one client until it closes: receive, answer, again. A message holding a connection
   * this echo cannot pass on is answered with a {@code RuntimeError} and one line on {@code err},
   * and the client kept, as the plain echo does.
   */
  static Server.Session session(MessageCodec.Pickle pickle, PrintWriter err) {
    PickleCodec codec = pickle.codec();
    Bulk bulk = Bulk.of(codec);
    return connection -> {
      while (true) {
        Bulk.Message received;
        try {
          received = bulk.receiveMessage(connection);
        } catch (ConnectionsNotCarriedException e) {
          if (pickle.noConnections() == null) throw e;
          // The frame was read whole and its descriptors closed: the client is in step.
          // Protocol 2, which every Python reads: the message's own protocol is not known here.
          connection.send(PyObject.call("builtins.RuntimeError",
              "ferry echo: " + pickle.noConnections()), codec.withProtocol(2));
          err.println("refused message: " + pickle.noConnections()); // one lock per line
          err.flush();
          continue;
        }
        try (Bulk.Message message = received) {
          // Connections the message carried are this process's copies; the reply shares
          // duplicates, so these close once it has left.
          Carried carried = Carried.in(message.value());
          try {
            if (message.isBulk()) {
              bulk.send(connection, message.value(), message);
            } else {
              connection.send(message.value(), codec.withProtocol(reply(pickle, message)));
            }
          } finally {
            carried.close();
          }
        }
      }
    };
  }

  private static int reply(MessageCodec.Pickle pickle, Bulk.Message message) {
    if (pickle.replies() == MessageCodec.ReplyProtocol.CODEC) return pickle.codec().protocol();
    return Math.max(2, Math.min(5, message.protocol()));
  }
}
