package dev.ferry.internal.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Connected pairs of Unix stream sockets.
 *
 * <p>junixsocket 2.10.1's {@code AFUNIXSocketPair.open()} leaks two descriptors per pair (it opens
 * two sockets, then replaces them with the socketpair's without closing them), so the pair is
 * made the long way: a listener on a fresh path in a directory only this user can enter, one
 * connect, one accept, and the path is gone again. Nobody else can reach the path, so the accepted
 * socket is ours.
 */
public final class SocketPairs {
  private SocketPairs() {}

  /** Two connected junixsocket channels, in blocking mode. */
  public static AFUNIXSocketChannel[] open() throws IOException {
    Path dir = Files.createTempDirectory("ferry-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path path = dir.resolve("p");
    try (AFUNIXServerSocketChannel server = AFUNIXServerSocketChannel.open()) {
      AFUNIXSocketAddress address = AFUNIXSocketAddress.of(path);
      server.bind(address, 1);
      AFUNIXSocketChannel first = AFUNIXSocketChannel.open();
      try {
        first.connect(address);
        AFUNIXSocketChannel second = server.accept();
        return new AFUNIXSocketChannel[] {first, second};
      } catch (IOException | RuntimeException e) {
        first.close();
        throw e;
      }
    } finally {
      Files.deleteIfExists(path);
      Files.deleteIfExists(dir);
    }
  }
}
