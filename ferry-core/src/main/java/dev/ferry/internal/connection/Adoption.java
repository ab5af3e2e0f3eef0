package dev.ferry.internal.connection;

import dev.ferry.ConnectionOptions;
import dev.ferry.internal.transport.InheritedDescriptors;
import dev.ferry.internal.transport.PipePump;
import dev.ferry.internal.transport.SocketTransport;
import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Connections made from descriptors another process handed over: inherited at start (CPython's
 * {@code Connection(fd, readable, writable)}) or received with {@code send_handle}. A Unix socket
 * becomes a connection as it is; a pipe end, which no Java selector can watch, through a socket
 * pair whose other end a {@link PipePump} copies to and from the pipe.
 */
public final class Adoption {
  private Adoption() {}

  /**
   * A connection that takes over inherited descriptor {@code number}: a Unix stream socket, which
   * it closes without shutting it down for the process that passed it (which may still hold a
   * copy), or a pipe end, whose bytes a {@link PipePump} carries through a socket pair and which
   * closes with the connection.
   *
   * @throws IOException naming the descriptor, if it is not open, neither a Unix socket nor a
   *     pipe, or a pipe end that cannot do what {@code readable} and {@code writable} ask; the
   *     descriptor is left as it was then
   */
  public static FramedConnection adoptInherited(int number, boolean readable, boolean writable,
      ConnectionOptions options) throws IOException {
    InheritedDescriptors.Kind kind = InheritedDescriptors.kind(number);
    InheritedDescriptors.checkAccess(number, kind, readable, writable);
    return adopt(number, kind, "descriptor " + number, readable, writable, options);
  }

  /**
   * As {@link #adoptInherited}, for descriptor {@code fd} received from another process (CPython's
   * {@code send_handle}), described as {@code description}. The connection owns {@code fd}; one
   * refused for what it is is closed, and the message names it: {@code "received descriptor 9 is
   * a regular file, not a unix socket or a pipe"}.
   */
  public static FramedConnection adoptReceived(FileDescriptor fd, String description,
      boolean readable, boolean writable, ConnectionOptions options) throws IOException {
    int number;
    InheritedDescriptors.Kind kind;
    try {
      number = InheritedDescriptors.number(fd);
      kind = InheritedDescriptors.receivedKind(number);
      InheritedDescriptors.checkAccess(number, kind, readable, writable);
    } catch (IOException | RuntimeException e) {
      // A plain close: junixsocket's would shut a socket down for the sender's copy too.
      new FileInputStream(fd).close();
      throw new IOException("received " + e.getMessage(), e);
    }
    return adopt(number, kind, description, readable, writable, options);
  }

  private static FramedConnection adopt(int number, InheritedDescriptors.Kind kind,
      String description, boolean readable, boolean writable, ConnectionOptions options)
      throws IOException {
    Closeable[] pump = new Closeable[1];
    AFUNIXSocketChannel channel = InheritedDescriptors.open(number, kind, p -> pump[0] = p);
    try {
      SocketTransport transport = new SocketTransport(channel);
      if (kind == InheritedDescriptors.Kind.UNIX_SOCKET) transport.keepPeerCopiesOnClose();
      FramedConnection connection = new FramedConnection(transport, description, readable,
          writable, options);
      connection.closeWith(pump[0]);
      return connection;
    } catch (IOException | RuntimeException e) {
      channel.close();
      if (pump[0] != null) pump[0].close();
      throw e;
    }
  }
}
