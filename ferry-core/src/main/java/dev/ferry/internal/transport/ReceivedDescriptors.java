package dev.ferry.internal.transport;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Descriptors that arrived (SCM_RIGHTS) with the bytes of a Unix stream socket, each batch
 * recorded against the stream position of the last byte of the read that brought it.
 *
 * <p>Why the last byte: the kernel attaches a batch to the first chunk of the sender's
 * {@code sendmsg}, and a Linux stream read that picks up a descriptor-carrying chunk ends inside
 * or right after that chunk. So the last byte of such a read belongs to the message the sender
 * attached the descriptors to, even when the read-ahead buffer also took in earlier messages.
 *
 * <p>Not thread-safe: used under the connection's read lock, and by close.
 */
public final class ReceivedDescriptors {
  /** Room for about 250 descriptors per read. */
  static final int ANCILLARY_BUFFER_SIZE = 1024;

  private record Batch(long position, FileDescriptor[] fds) {}

  private final ArrayDeque<Batch> batches = new ArrayDeque<>();
  private long bytesRead;
  private boolean closed;

  long bytesRead() {
    return bytesRead;
  }

  void afterRead(AFUNIXSocketChannel channel, int n) throws IOException {
    bytesRead += n;
    FileDescriptor[] received = channel.getReceivedFileDescriptors();
    if (received == null || received.length == 0) return;
    FileDescriptor[] fds = detach(received);
    synchronized (this) {
      if (closed) {
        closeQuietly(fds);
        return;
      }
      batches.add(new Batch(bytesRead - 1, fds));
    }
  }

  /**
   * Copies of {@code received} that the socket they came over does not own. junixsocket closes
   * every received descriptor still open when that socket closes, which would end a connection
   * passed over a short-lived socket (a resource-sharer fetch) right after it arrived.
   */
  private static FileDescriptor[] detach(FileDescriptor[] received) throws IOException {
    FileDescriptor[] own = new FileDescriptor[received.length];
    try {
      for (int i = 0; i < received.length; i++) {
        own[i] = FileDescriptorCast.duplicating(received[i]).getFileDescriptor();
      }
    } catch (IOException | RuntimeException e) {
      closeQuietly(own);
      throw e;
    } finally {
      closeQuietly(received);
    }
    return own;
  }

  /**
   * Files a batch that came another way, at {@code position} (a lane's descriptor record); closes
   * it if this is closed. Returns how many batches are now waiting.
   */
  synchronized int add(long position, FileDescriptor[] fds) {
    if (closed) {
      closeQuietly(fds);
    } else {
      batches.add(new Batch(position, fds));
    }
    return batches.size();
  }

  synchronized FileDescriptor[] take(long from, long to) {
    List<FileDescriptor> taken = new ArrayList<>();
    for (Iterator<Batch> i = batches.iterator(); i.hasNext(); ) {
      Batch b = i.next();
      if (b.position() >= from && b.position() < to) {
        taken.addAll(List.of(b.fds()));
        i.remove();
      }
    }
    return taken.toArray(new FileDescriptor[0]);
  }

  synchronized void discardBefore(long position) {
    while (!batches.isEmpty() && batches.peekFirst().position() < position) {
      closeQuietly(batches.removeFirst().fds());
    }
  }

  synchronized void closeAll() {
    closed = true;
    while (!batches.isEmpty()) closeQuietly(batches.removeFirst().fds());
  }

  /**
   * Closes descriptors nobody claimed. A plain close, not junixsocket's, which would shut the
   * socket down for the sender too.
   */
  public static void closeQuietly(FileDescriptor[] fds) {
    for (FileDescriptor fd : fds) {
      if (fd == null) continue;
      try {
        new FileInputStream(fd).close();
      } catch (IOException e) {
        // Already closed: nothing left to release.
      }
    }
  }
}
