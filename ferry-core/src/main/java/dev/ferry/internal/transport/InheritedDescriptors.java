package dev.ferry.internal.transport;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Descriptors a process was started with (Python's {@code subprocess.Popen(..., pass_fds=[fd])}):
 * what kind each is, and a socket channel that takes one over. junixsocket reads the number and
 * the kind without reflection into the JDK.
 */
public final class InheritedDescriptors {
  /** {@code st_mode}'s file type bits, and the types a descriptor may have. */
  private static final int TYPE_MASK = 0170000;
  private static final int FIFO = 0010000;
  private static final int CHARACTER_DEVICE = 0020000;
  private static final int DIRECTORY = 0040000;
  private static final int REGULAR = 0100000;
  private static final int SOCKET = 0140000;

  private InheritedDescriptors() {}

  /**
   * A Unix stream socket channel that owns descriptor {@code number}: closing the channel closes
   * the descriptor, without shutting the socket down for other processes that hold a copy (the
   * parent that passed it may still). On failure the descriptor is left as it was.
   *
   * @throws IllegalArgumentException for a negative number
   * @throws IOException naming the descriptor, if it is not open or not a Unix socket
   */
  public static AFUNIXSocketChannel unixChannel(int number) throws IOException {
    if (number < 0) throw new IllegalArgumentException("descriptor < 0: " + number);
    FileDescriptorCast cast;
    try {
      cast = FileDescriptorCast.unsafeUsing(number);
    } catch (SocketException e) {
      throw new IOException("descriptor " + number + " is not open", e);
    }
    if (!cast.isAvailable(AFUNIXSocketChannel.class)) {
      throw new IOException("descriptor " + number + " is " + kind(number) + ", not a unix socket");
    }
    FileDescriptor fd = cast.getFileDescriptor();
    AFUNIXSocketChannel channel = cast.as(AFUNIXSocketChannel.class);
    channel.setShutdownOnClose(false);
    // A channel cast from a descriptor does not own it: this stream closes it with the channel.
    channel.socket().addCloseable(new FileInputStream(fd));
    return channel;
  }

  /** The number of {@code fd}, as the operating system knows it. */
  public static int number(FileDescriptor fd) throws IOException {
    return FileDescriptorCast.using(fd).as(Integer.class);
  }

  /** What descriptor {@code number} is, in words, for error messages: "a pipe", "a tcp socket". */
  static String kind(int number) {
    int mode;
    try {
      mode = (Integer) Files.getAttribute(Path.of("/proc/self/fd/" + number), "unix:mode");
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "of an unknown kind";
    }
    return switch (mode & TYPE_MASK) {
      case FIFO -> "a pipe";
      case CHARACTER_DEVICE -> "a character device";
      case DIRECTORY -> "a directory";
      case REGULAR -> "a regular file";
      case SOCKET -> "a socket of another family (tcp?)";
      default -> "of an unknown kind";
    };
  }
}
