package dev.ferry.internal.transport;

import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Descriptors a process was started with (Python's {@code subprocess.Popen(..., pass_fds=[fd])}):
 * what kind each is, and a socket channel that takes one over. junixsocket reads the number and
 * the kind of socket without reflection into the JDK; Linux's {@code /proc/self} tells a pipe
 * and its direction.
 */
public final class InheritedDescriptors {
  /** {@code st_mode}'s file type bits, and the types a descriptor may have. */
  private static final int TYPE_MASK = 0170000;
  private static final int FIFO = 0010000;
  private static final int CHARACTER_DEVICE = 0020000;
  private static final int DIRECTORY = 0040000;
  private static final int REGULAR = 0100000;
  private static final int SOCKET = 0140000;

  /** {@code O_ACCMODE} and {@code O_WRONLY}, in the {@code flags} of {@code /proc/self/fdinfo}. */
  private static final int ACCESS_MODE = 3;
  private static final int WRITE_ONLY = 1;

  /** Columns of {@code /proc/net/unix}: the listening flag, a stream's type, a connected state. */
  private static final int LISTENING = 0x10000;
  private static final String STREAM = "0001";
  private static final String DATAGRAM = "0002";
  private static final String CONNECTED = "03";

  private InheritedDescriptors() {}

  /** What an inherited descriptor can become: a Unix socket, or one end of a pipe. */
  public enum Kind {
    UNIX_SOCKET, PIPE_READ_END, PIPE_WRITE_END
  }

  /**
   * What descriptor {@code number} is.
   *
   * @throws IllegalArgumentException for a negative number
   * @throws IOException naming the descriptor, if it is not open, or neither a Unix socket nor a
   *     pipe
   */
  public static Kind kind(int number) throws IOException {
    FileDescriptorCast cast = cast(number);
    if (cast.isAvailable(AFUNIXSocketChannel.class)) {
      String problem = unixSocketProblem(number);
      if (problem != null) throw new IOException("descriptor " + number + " is " + problem);
      return Kind.UNIX_SOCKET;
    }
    int type = type(number);
    if (type == FIFO) return writeOnly(number) ? Kind.PIPE_WRITE_END : Kind.PIPE_READ_END;
    String unix = type == SOCKET ? unixSocketProblem(number) : null;
    if (unix != null) throw new IOException("descriptor " + number + " is " + unix);
    throw new IOException("descriptor " + number + " is " + describe(type)
        + ", not a unix socket or a pipe");
  }

  /**
   * As {@link #kind}, but a Unix socket is taken as it is, without the lookup in the kernel's
   * table of sockets (a file as long as the machine has sockets): for a descriptor just received
   * as a connection, which is one nearly always, and whose first use reports it if not.
   */
  public static Kind receivedKind(int number) throws IOException {
    return cast(number).isAvailable(AFUNIXSocketChannel.class) ? Kind.UNIX_SOCKET : kind(number);
  }

  /**
   * A Unix stream socket channel, in blocking mode, that takes over descriptor {@code number} of
   * {@code kind}: for a pipe end, the socket of a {@link PipePump} handed to {@code owner}.
   * Closing the channel (or, for a pipe, the pump) closes the descriptor, without shutting a
   * socket down for other processes that hold a copy (the parent that passed it may still).
   */
  public static AFUNIXSocketChannel open(int number, Kind kind, Consumer<Closeable> owner)
      throws IOException {
    FileDescriptorCast cast = cast(number);
    FileDescriptor fd = cast.getFileDescriptor();
    if (kind != Kind.UNIX_SOCKET) return PipePump.start(fd, kind == Kind.PIPE_READ_END, owner);
    AFUNIXSocketChannel channel = cast.as(AFUNIXSocketChannel.class);
    channel.setShutdownOnClose(false);
    // A channel cast from a descriptor does not own it: this stream closes it with the channel.
    channel.socket().addCloseable(new FileInputStream(fd));
    return channel;
  }

  /**
   * Checks that a descriptor of {@code kind} can do what is asked: a pipe's read end cannot send
   * and its write end cannot receive.
   */
  public static void checkAccess(int number, Kind kind, boolean readable, boolean writable)
      throws IOException {
    if (kind == Kind.PIPE_READ_END && writable) {
      throw new IOException("descriptor " + number + " is a pipe's read end: it cannot send");
    }
    if (kind == Kind.PIPE_WRITE_END && readable) {
      throw new IOException("descriptor " + number + " is a pipe's write end: it cannot receive");
    }
  }

  /** The number of {@code fd}, as the operating system knows it. */
  public static int number(FileDescriptor fd) throws IOException {
    return FileDescriptorCast.using(fd).as(Integer.class);
  }

  private static FileDescriptorCast cast(int number) throws IOException {
    if (number < 0) throw new IllegalArgumentException("descriptor < 0: " + number);
    try {
      return FileDescriptorCast.unsafeUsing(number);
    } catch (SocketException e) {
      throw new IOException("descriptor " + number + " is not open", e);
    }
  }

  /** The file type bits of descriptor {@code number}, or -1 if they cannot be read. */
  private static int type(int number) {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self/fd/" + number), "unix:mode")
          & TYPE_MASK;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return -1;
    }
  }

  private static boolean writeOnly(int number) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + number))) {
      if (line.startsWith("flags:")) {
        return (Integer.parseInt(line.substring(6).strip(), 8) & ACCESS_MODE) == WRITE_ONLY;
      }
    }
    throw new IOException("descriptor " + number + ": no flags in /proc/self/fdinfo");
  }

  /**
   * Why Unix socket {@code number} cannot carry a connection, from Linux's table of Unix sockets
   * ({@code /proc/net/unix}: flags, type, state by inode): "a listening unix socket", "a unix
   * datagram socket, ...", "an unconnected unix socket"; null for a connected stream socket or a
   * socket the table does not hold (another family), or if
   * the table cannot be read (a receive then reports the problem).
   */
  private static String unixSocketProblem(int number) {
    try {
      String link = Files.readSymbolicLink(Path.of("/proc/self/fd/" + number)).toString();
      if (!link.startsWith("socket:[")) return null;
      String inode = link.substring(8, link.length() - 1);
      for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
        String[] f = line.strip().split("\\s+");
        if (f.length < 7 || !f[6].equals(inode)) continue;
        if ((Integer.parseInt(f[3], 16) & LISTENING) != 0) return "a listening unix socket";
        if (f[4].equals(DATAGRAM)) return "a unix datagram socket, not a stream socket";
        if (!f[4].equals(STREAM)) return "a unix socket of type " + f[4] + ", not a stream socket";
        return f[5].equals(CONNECTED) ? null : "an unconnected unix socket";
      }
    } catch (IOException | RuntimeException e) {
      // No table to read: the first receive reports what is wrong.
    }
    return null;
  }

  /** A descriptor's type, in words, for error messages: "a regular file", "a tcp socket". */
  private static String describe(int type) {
    return switch (type) {
      case CHARACTER_DEVICE -> "a character device";
      case DIRECTORY -> "a directory";
      case REGULAR -> "a regular file";
      case SOCKET -> "a socket of another family (tcp?)";
      default -> "of an unknown kind";
    };
  }
}
