package dev.ferry.internal.handle;

import dev.ferry.Connection;
import dev.ferry.internal.connection.DescriptorChannel;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.FileDescriptorCast;

/** Turning received descriptors into channels, and closing the ones nobody wants. */
public final class Descriptors {
  private Descriptors() {}

  /**
   * Closes {@code fd} with a plain close: junixsocket's would shut the socket down for every
   * process that holds it.
   */
  public static void close(FileDescriptor fd) {
    try {
      new FileInputStream(fd).close();
    } catch (IOException e) {
      // Already closed: nothing left to release.
    }
  }

  public static void closeAll(FileDescriptor[] fds, int from) {
    for (int i = from; i < fds.length; i++) {
      if (fds[i] != null) close(fds[i]);
    }
  }

  /**
   * A second connection on a duplicate ({@code dup(2)}) of {@code end}'s Unix socket, with its
   * access and options: the copy a resource sharer holds, as CPython's {@code DupFd} does. From
   * now on {@code end} closes without shutting the socket down, so that the copy keeps working.
   *
   * @throws IllegalArgumentException if {@code end} is not a Unix socket connection
   */
  public static Connection duplicate(Connection end) throws IOException {
    DescriptorChannel channel = DescriptorChannel.of(end);
    if (channel == null || !channel.passesDescriptors()) {
      throw new IllegalArgumentException("cannot pass " + end
          + ": only unix socket connections travel between processes");
    }
    FileDescriptor copy = FileDescriptorCast.duplicating(channel.fileDescriptor())
        .getFileDescriptor();
    channel.keepPeerCopiesOnClose();
    return channel.adopt(unixChannel(copy), "copy of " + end, end.isReadable(),
        end.isWritable());
  }

  /** A listening Unix socket channel on {@code fd}; closes {@code fd} if it is not one. */
  public static AFUNIXServerSocketChannel unixServerChannel(FileDescriptor fd)
      throws IOException {
    try {
      return FileDescriptorCast.using(fd).as(AFUNIXServerSocketChannel.class);
    } catch (IOException | RuntimeException e) {
      close(fd);
      throw new IOException("received descriptor is not a listening unix socket: "
          + e.getMessage(), e);
    }
  }

  /**
   * A Unix stream socket channel owning {@code fd}; closes {@code fd} if it is not one. The
   * sender may still hold the socket: the connection built on it must close without shutdown
   * (SocketTransport.keepPeerCopiesOnClose; junixsocket 2.10.1 ignores setShutdownOnClose).
   */
  public static AFUNIXSocketChannel unixChannel(FileDescriptor fd) throws IOException {
    AFUNIXSocketChannel channel;
    try {
      channel = FileDescriptorCast.using(fd).as(AFUNIXSocketChannel.class);
    } catch (IOException | RuntimeException e) {
      close(fd);
      throw new IOException("received descriptor is not a unix socket: " + e.getMessage(), e);
    }
    channel.setShutdownOnClose(false);
    // A channel cast from a descriptor does not own it: closing the channel leaves it open.
    channel.socket().addCloseable(new FileInputStream(fd));
    return channel;
  }
}
