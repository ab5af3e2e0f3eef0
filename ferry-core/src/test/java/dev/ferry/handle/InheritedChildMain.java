package dev.ferry.handle;

import dev.ferry.AuthKey;
import dev.ferry.Authentication;
import dev.ferry.AuthenticationException;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A Java child started by a Python parent with {@code pass_fds}: {@code InheritedChildMain FD
 * KEY_HEX} adopts descriptor FD, authenticates the way a listener does (deliverChallenge, then
 * answerChallenge), echoes four messages and says which descriptor it was. Exit 3 with one line
 * after a failed handshake.
 */
public final class InheritedChildMain {
  private InheritedChildMain() {}

  public static void main(String[] args) throws IOException {
    if (args[args.length - 1].equals("oneway")) {
      copyOneWay(Integer.parseInt(args[0]), Integer.parseInt(args[1]));
      return;
    }
    int fd = Integer.parseInt(args[0]);
    AuthKey key = AuthKey.fromHex(args[1]);
    try (Connection parent = Inherited.connection(fd, Access.DUPLEX, ConnectionOptions.defaults())) {
      try {
        Authentication.deliverChallenge(parent, key);
        Authentication.answerChallenge(parent, key);
      } catch (AuthenticationException e) {
        System.out.println("child: " + e.getMessage());
        System.out.flush();
        System.exit(3);
      }
      for (int i = 0; i < 4; i++) parent.sendBytes(parent.receiveBytes());
      parent.sendBytes(("descriptor " + parent.descriptor() + " of " + fd)
          .getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Copies each message from pipe end {@code in} to pipe end {@code out} until end of stream. */
  private static void copyOneWay(int in, int out) throws IOException {
    ConnectionOptions options = ConnectionOptions.defaults();
    try (Connection reads = Inherited.connection(in, Access.READ_ONLY, options);
        Connection writes = Inherited.connection(out, options)) {
      if (writes.isReadable() || !writes.isWritable() || reads.isWritable()) {
        throw new IllegalStateException("wrong access: " + reads + " " + writes);
      }
      while (true) {
        byte[] message;
        try {
          message = reads.receiveBytes();
        } catch (EOFException e) {
          return;
        }
        writes.sendBytes(message);
      }
    }
  }
}
