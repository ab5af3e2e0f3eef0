package dev.ferry.cli;

import dev.ferry.Address;
import dev.ferry.pickle.Bulk;
import dev.ferry.pickle.PickleCodec;
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

  /** Serves one client until it closes: receive, answer, again. */
  static Server.Session session(MessageCodec.Pickle pickle) {
    PickleCodec codec = pickle.codec();
    Bulk bulk = Bulk.of(codec);
    return connection -> {
      while (true) {
        try (Bulk.Message message = bulk.receiveMessage(connection)) {
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
