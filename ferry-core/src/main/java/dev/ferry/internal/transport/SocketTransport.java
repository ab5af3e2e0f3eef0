package dev.ferry.internal.transport;

import dev.ferry.ConnectionClosedException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * One stream socket, JDK or junixsocket, held in non-blocking mode so that it can be registered
 * with any number of selectors (for {@code Wait} and event loops) while blocking callers wait for
 * readiness on a selector of their own.
 *
 * <p>Threading: one thread at a time reads ({@link #read}, {@link #awaitReadable}) and one thread at
 * a time writes; the caller's read and write locks guarantee it. Each waits on a selector of its
 * own ({@link SelectorWait}). {@link #close()} may come from any thread and wakes both.
 *
 * <p><b>Blocking reads.</b> On a Unix socket, a read without a deadline on a platform thread,
 * while no selector holds the socket, puts the channel in blocking mode and makes one
 * {@code read(2)} that waits in the kernel: one system call per message instead of three (a read
 * that finds nothing, a poll, the read), which is most of a round trip's cost. Anything that needs a
 * selector (a deadline, a large read, a {@code Wait}, an event loop, a write that found the socket
 * full) puts it back in non-blocking mode under {@link #modeLock}; {@link #pinNonBlocking()} keeps
 * it there. Interrupting a thread blocked in such a read closes the connection, as for every JDK
 * interruptible channel. Not on the JDK's TCP channels, whose {@code configureBlocking} waits for a
 * write blocked in the kernel (a reader switching back could deadlock with it), not on virtual
 * threads (junixsocket's read would hold the carrier), and not once the socket may be passed on
 * ({@link #keepPeerCopiesOnClose}: only a shutdown wakes a blocked read).
 */
public final class SocketTransport implements Transport {
  /** Whether reads without a deadline may block in the kernel; {@code -Dferry.blockingReads=false} turns it off. */
  private static final boolean BLOCKING_READS =
      Boolean.parseBoolean(System.getProperty("ferry.blockingReads", "true"));

  /** Messages from this size on get the larger send buffer: see {@link #prepareWrite}. */
  static final long LARGE_MESSAGE = 256 * 1024;

  /**
   * The send buffer asked for then; Linux doubles it (2 MiB), capped by net.core.wmem_max. Asking
   * for 4 MiB measured no faster.
   */
  static final int LARGE_SEND_BUFFER = 1024 * 1024;

  private static final System.Logger LOG = System.getLogger(SocketTransport.class.getName());

  private final SocketChannel channel;

  /** Whether the channel is the JDK's (TCP), whose blocking reads park a virtual thread. */
  private final boolean jdkChannel;

  /** Guards the channel's blocking mode, {@link #pins} and {@link #writerWaiting}. */
  private final ReentrantLock modeLock = new ReentrantLock();

  /** How many holders need the channel non-blocking (Wait calls, an event loop); guarded by modeLock. */
  private int pins;

  /** Whether a writer is waiting on its selector; guarded by modeLock. */
  private boolean writerWaiting;
  private long writeWaits; // writing thread only: see writeWaits()

  /**
   * Whether the last wait for input had a deadline or was for a large read: then keep the
   * selector (and non-blocking mode) for the next one.
   */
  private boolean lastWaitHadDeadline;

  /** The reader's waits; used only by the thread holding the caller's read lock. */
  private final SelectorWait reads;

  /** The writer's waits; used only by the thread holding the caller's write lock. */
  private final SelectorWait writes;

  private volatile boolean closed;

  /** Reads that took bytes; written only by the thread holding the caller's read lock. */
  private volatile long readCount;

  public SocketTransport(SocketChannel channel) throws IOException {
    this.channel = channel;
    this.jdkChannel = channel.provider() == SelectorProvider.provider();
    channel.configureBlocking(false);
    reads = new SelectorWait(channel, SelectionKey.OP_READ, this::isClosed);
    writes = new SelectorWait(channel, SelectionKey.OP_WRITE, this::isClosed);
    if (channel instanceof AFUNIXSocketChannel unix) {
      // Without room for ancillary data the kernel drops (and closes) descriptors a peer sends.
      unix.setAncillaryReceiveBufferSize(ReceivedDescriptors.ANCILLARY_BUFFER_SIZE);
      descriptors = new ReceivedDescriptors();
    } else {
      descriptors = null;
    }
  }

  @Override
  public SocketChannel channel() {
    return channel;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public boolean emptyReadWhenReadableIsEnd() {
    return !jdkChannel;
  }

  @Override
  public int readWithin(ByteBuffer dst, long deadline) throws IOException {
    if (deadline == Deadlines.NONE && blockingReadAllowed()) {
      int n = readBlocking(dst);
      if (n != 0) return n;
      // Another thread pinned the socket non-blocking between the check and the read, which then
      // found nothing: wait the non-blocking way.
    }
    lastWaitHadDeadline = deadline != Deadlines.NONE;
    return readPolling(dst, deadline);
  }

  /**
   * Reads a large part of a message: waits in poll, not in a blocking read, and keeps the socket
   * that way for the next read. A blocking read returns as soon as the first few kilobytes arrive,
   * so a megabyte comes in many small reads, each a wake-up; after poll more has piled up. Measured
   * only with a one-process loop of 1 MiB messages (medians about 10% higher, runs spread widely);
   * the bench's 1 MiB rows are too noisy to show it either way.
   */
  @Override
  public int readLarge(ByteBuffer dst, long deadline) throws IOException {
    lastWaitHadDeadline = true;
    int n = readPolling(dst, deadline);
    if (n == 0) throw new SocketTimeoutException("receive timed out");
    return n;
  }

  private int readPolling(ByteBuffer dst, long deadline) throws IOException {
    int n = readNow(dst);
    if (n != 0) return n;
    if (!awaitReadable(deadline)) return 0;
    n = readNow(dst);
    // Readable yet nothing to read means end of stream: junixsocket's non-blocking read returns
    // 0 there instead of -1. Only this thread reads, so nobody took the bytes in between.
    return n == 0 ? -1 : n;
  }

  @Override
  public int readNow(ByteBuffer dst) throws IOException {
    reads.lock.lock();
    try {
      checkOpen();
      if (channel.isBlocking()) ensureNonBlocking();
      int n = read(dst);
      if (n > 0) afterRead(n);
      if (n < 0) checkOpen(); // our own close, from another thread, is not the peer's end
      return n;
    } catch (ClosedByInterruptException e) {
      throw interrupted(); // junixsocket's non-blocking read closes the channel on an interrupt too
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      reads.lock.unlock();
    }
  }

  private void afterRead(int n) throws IOException {
    readCount++; // one writer: the thread holding the read lock
    if (descriptors != null) descriptors.afterRead((AFUNIXSocketChannel) channel, n);
  }

  /**
   * How many reads have taken bytes from the socket so far. A caller whose selector reported the
   * socket readable, and who finds this unchanged since the selector began watching it, knows that
   * nobody took what was reported: a read that then finds nothing is at the end of the stream.
   */
  @Override
  public long readCount() {
    return readCount;
  }

  /** Waits until the socket is readable (data, end of stream or error); false if the deadline passed. */
  public boolean awaitReadable(long deadline) throws IOException {
    if (jdkChannel && ChannelModes.isVirtualThread()) {
      // One selector for all virtual threads: a selector each would cost two descriptors apiece.
      virtualReader = Thread.currentThread();
      try {
        checkOpen();
        return VirtualWaits.awaitReadable(channel, deadline, this::isClosed);
      } finally {
        virtualReader = null;
      }
    }
    reads.lock.lock();
    try {
      return reads.await(deadline);
    } finally {
      reads.lock.unlock();
    }
  }

  /** A virtual thread waiting in {@link VirtualWaits}, for close() to wake. */
  private volatile Thread virtualReader;

  /**
   * Before the first message of {@link #LARGE_MESSAGE} bytes or more on a Unix socket, raises its
   * send buffer from the default (208 KiB, a fifth of a megabyte) to 2 MiB:
   * a megabyte then crosses in one or two fills instead of five, each a sleep of the writer and a
   * wake-up by the reader (1 MiB one-way: about 1.3x the messages per second in a one-process
   * loop). Only then: with 64 KiB messages the larger buffer was slower (the writer runs so far
   * ahead that the reader's copies miss the cache), and it lets more bytes wait in the kernel: up
   * to 2 MiB per such connection for a slow reader, where the queue of an async sender and the
   * socket held 1.2 MiB before. TCP keeps the kernel's autotuning, which the option would turn off.
   */
  @Override
  public void prepareWrite(long size) {
    if (size < LARGE_MESSAGE || sendBufferRaised || jdkChannel) return;
    sendBufferRaised = true;
    try {
      channel.setOption(StandardSocketOptions.SO_SNDBUF, LARGE_SEND_BUFFER);
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "could not raise the send buffer", e);
    }
  }

  /** Writing thread only. */
  private boolean sendBufferRaised;

  @Override
  public void writeFully(ByteBuffer src) throws IOException {
    writes.lock.lock();
    try {
      checkOpen();
      // A passed socket waits for room in poll, which close wakes; a blocked write(2) nothing
      // wakes.
      if (keepPeerCopies && channel.isBlocking()) ensureNonBlocking();
      while (src.hasRemaining()) {
        // In blocking mode the write itself waits for room; in non-blocking mode 0 means full.
        if (write(src) == 0) awaitWritable(Deadlines.NONE);
      }
    } catch (ClosedByInterruptException e) {
      throw interrupted();
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      writes.lock.unlock();
    }
  }

  /**
   * On the JDK's channels (TCP) one gathering write: a 4-byte header written alone would leave as
   * a packet of its own (TCP_NODELAY). junixsocket's gathering write takes only the first buffer,
   * so Unix sockets write the two in turn.
   */
  @Override
  public void writeFully(ByteBuffer head, ByteBuffer body) throws IOException {
    if (!jdkChannel) {
      writeFully(head);
      writeFully(body);
      return;
    }
    checkOpen();
    ByteBuffer[] both = {head, body};
    int limit = body.limit();
    try {
      while (body.hasRemaining() || head.hasRemaining()) {
        if (!body.isDirect()) {
          body.limit(body.position() + Math.min(body.remaining(), HEAP_WINDOW));
        }
        if (channel.write(both) == 0) awaitWritable(Deadlines.NONE);
        body.limit(limit);
      }
    } catch (ClosedByInterruptException e) {
      throw interrupted();
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      body.limit(limit);
    }
  }

  /**
   * The most bytes of a heap buffer handed to one read or write. junixsocket and the JDK copy a
   * heap buffer through a direct one as large as what the call is asked to move: junixsocket
   * allocates it anew above 1 MiB and copies all of the rest on every write, which made large
   * arrays quadratic (JMH {@code LargeArrayBenchmark}, a 32 MiB array into an array over a pipe:
   * 893 ms without the window, 4.4-4.7 ms with it, 4.1 ms between direct buffers), and the JDK
   * keeps the buffer for the thread (a 1 GiB send would hold 1 GiB of native memory).
   */
  static final int HEAP_WINDOW = 256 * 1024;

  private int read(ByteBuffer dst) throws IOException {
    try {
      return ChannelModes.windowed(channel, dst, true);
    } catch (SocketException e) {
      if (descriptors == null || closed) throw e;
      throw lostRead(e);
    }
  }

  private int write(ByteBuffer src) throws IOException {
    return ChannelModes.windowed(channel, src, false);
  }

  /**
   * A Unix socket read that failed may have taken bytes from the stream all the same: when more
   * descriptors come with them than junixsocket has room for (60), the kernel hands over the bytes
   * and junixsocket throws ENOBUFS and drops them (and the descriptors that fit stay open,
   * unreachable). Whatever followed would be read as frames out of step, so the socket closes.
   */
  private IOException lostRead(SocketException e) {
    try {
      close();
    } catch (IOException suppressed) {
      e.addSuppressed(suppressed);
    }
    ConnectionClosedException closedNow = new ConnectionClosedException(e.getMessage()
        + "; the connection is closed, since a failed read may have taken bytes of the stream");
    closedNow.initCause(e);
    return closedNow;
  }

  /**
   * Waits until the socket takes more bytes (or failed); false if the deadline passed. Writing
   * thread only.
   */
  public boolean awaitWritable(long deadline) throws IOException {
    modeLock.lock();
    try {
      if (channel.isBlocking()) return true; // a reader switched modes: the next write waits itself
      // Registered under the mode lock: keepPeerCopiesOnClose, which switches a socket that no
      // selector holds to blocking mode, then sees it held.
      writes.ensureRegistered();
      writerWaiting = true; // from now on no reader switches to blocking mode
    } finally {
      modeLock.unlock();
    }
    writeWaits++;
    writes.lock.lock();
    try {
      return writes.await(deadline);
    } finally {
      writes.lock.unlock();
      modeLock.lock();
      writerWaiting = false;
      modeLock.unlock();
    }
  }

  @Override
  public long writeWaits() {
    return writeWaits;
  }

  // ---------------------------------------------------------------------------------------------
  // Blocking mode

  private int readBlocking(ByteBuffer dst) throws IOException {
    int n;
    readerInKernel = true;
    try {
      n = read(dst);
    } catch (ClosedByInterruptException e) {
      throw interrupted();
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      readerInKernel = false;
    }
    // close() from another thread wakes a blocked junixsocket read with -1, not an exception.
    checkOpen();
    if (n > 0) afterRead(n);
    // Only this thread switches to blocking mode: still blocking now means the read blocked, and
    // nothing read with room to spare is the end of stream. Otherwise 0 is "nothing yet".
    return n == 0 && dst.hasRemaining() && channel.isBlocking() ? -1 : n;
  }

  /** The channel closed itself because the thread was interrupted in a blocking call. */
  private InterruptedIOException interrupted() {
    try {
      close();
    } catch (IOException ignored) {
      // The channel is closed already; close() releases the rest.
    }
    return new InterruptedIOException("interrupted while waiting for the peer (the connection is closed)");
  }

  /**
   * Whether this read may block in the kernel: puts the channel in blocking mode if nothing needs
   * it non-blocking. A caller that used deadlines just before keeps its selector instead, so that
   * mixing timed and untimed receives does not open a selector each time.
   */
  private boolean blockingReadAllowed() throws IOException {
    // Not on the JDK's channels (TCP): their configureBlocking(false) waits for a write blocked in
    // the kernel, so a reader that needs a deadline, a large read or a Wait would deadlock with a
    // writer whose peer waits for this side to read first.
    // Not where close must not shut the socket down (passed connections): a plain close(2) does
    // not wake a thread in read(2), which would then take the next owner's bytes.
    if (!BLOCKING_READS || jdkChannel || keepPeerCopies) return false;
    if (ChannelModes.isVirtualThread()) {
      // A virtual thread must park, not sit in read(2) on its carrier.
      if (channel.isBlocking()) ensureNonBlocking();
      return false;
    }
    if (channel.isBlocking()) return true;
    if (lastWaitHadDeadline && reads.hasSelector()) {
      lastWaitHadDeadline = false;
      return false;
    }
    modeLock.lock();
    try {
      checkOpen();
      // Again under the lock: keepPeerCopiesOnClose may have run since the check above.
      if (pins > 0 || keepPeerCopies) return false;
      if (writerWaiting) return false;
      reads.drop();
      writes.drop();
      // Someone else's selector (the accept loop's, not yet done deregistering): next time.
      if (channel.isRegistered()) return false;
      channel.configureBlocking(true);
      return true;
    } catch (IllegalBlockingModeException e) {
      return false;
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      modeLock.unlock();
    }
  }

  private void ensureNonBlocking() throws IOException {
    modeLock.lock();
    try {
      checkOpen();
      channel.configureBlocking(false);
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      modeLock.unlock();
    }
  }

  /**
   * Puts the channel in non-blocking mode and keeps it there until {@link #unpinNonBlocking()}:
   * for selectors of other owners ({@code Wait}, event loops). Returns the channel to register.
   */
  @Override
  public SocketChannel pinNonBlocking() throws IOException {
    modeLock.lock();
    try {
      checkOpen();
      channel.configureBlocking(false);
      pins++;
      return channel;
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      modeLock.unlock();
    }
  }

  /** Ends one {@link #pinNonBlocking()}; the owner has cancelled its key. */
  @Override
  public void unpinNonBlocking() {
    modeLock.lock();
    try {
      if (pins > 0) pins--;
    } finally {
      modeLock.unlock();
    }
  }

  private void checkOpen() throws ConnectionClosedException {
    if (closed) throw new ConnectionClosedException("connection is closed");
  }

  private IOException closedOr(IOException e) {
    // lostRead's: closed by this side for a reason it names
    if (e instanceof ConnectionClosedException && e.getCause() instanceof SocketException) return e;
    if (closed || e instanceof AsynchronousCloseException || e instanceof ClosedChannelException) {
      return new ConnectionClosedException("connection is closed");
    }
    return e;
  }

  @Override
  public void close() throws IOException {
    // One close at a time, and a second returns once the first is done: by then a passed socket
    // is back in blocking mode for the processes that hold it. Except a reader or writer closing
    // from inside its own call (an interrupt, a lost read) while another close runs: that close
    // waits for this thread's wait lock, so this thread leaves it the work and unwinds.
    if (reads.lock.isHeldByCurrentThread() || writes.lock.isHeldByCurrentThread()) {
      if (!closeLock.tryLock()) return;
    } else {
      closeLock.lock();
    }
    try {
      if (closed) return;
      closed = true;
      reads.wakeup();
      writes.wakeup();
      Thread v = virtualReader;
      if (v != null) LockSupport.unpark(v);
      try {
        if (keepPeerCopies) {
          leaveBlockingForPeers();
          releaseDescriptorOnly();
        }
        channel.close();
      } finally {
        try {
          reads.close();
          writes.close();
        } finally {
          if (descriptors != null) descriptors.closeAll();
        }
      }
    } finally {
      closeLock.unlock();
    }
  }

  private final ReentrantLock closeLock = new ReentrantLock();

  /**
   * Puts a socket other processes still hold back in blocking mode, which CPython's Connection
   * expects (O_NONBLOCK is shared by every copy), once this side's own selectors are gone; one
   * that someone else's selector still holds (a Wait, an event loop) stays as it is. Each
   * direction's selector goes once its woken thread has left it ({@link SelectorWait}); a thread
   * that does not leave keeps the socket registered, and so non-blocking. The mode changes under
   * {@link #modeLock}, after {@link #closed}: no reader switches it back afterwards.
   */
  private void leaveBlockingForPeers() {
    boolean readsLeft = reads.lockOnceLeft();
    boolean writesLeft = writes.lockOnceLeft();
    modeLock.lock();
    try {
      if (readsLeft) reads.deregister();
      if (writesLeft) writes.deregister();
      if (!channel.isRegistered()) channel.configureBlocking(true);
    } catch (IOException | IllegalBlockingModeException e) {
      LOG.log(System.Logger.Level.DEBUG, "could not leave a passed socket in blocking mode", e);
    } finally {
      modeLock.unlock();
      if (writesLeft) writes.lock.unlock();
      if (readsLeft) reads.lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Descriptor passing (Unix sockets only)

  /**
   * Descriptors received with the bytes read so far, keyed by stream position; null for TCP.
   * Touched only by the thread holding the caller's read lock, and by close.
   */
  private final ReceivedDescriptors descriptors;

  /** Whether this socket can carry descriptors (SCM_RIGHTS): a Unix socket. */
  @Override
  public boolean passesDescriptors() {
    return descriptors != null;
  }

  /** How many bytes have been read from the socket so far. */
  @Override
  public long bytesRead() {
    return descriptors == null ? 0 : descriptors.bytesRead();
  }

  /** The descriptors received with the stream bytes {@code from} (inclusive) to {@code to}. */
  @Override
  public FileDescriptor[] takeDescriptors(long from, long to) {
    return descriptors == null ? new FileDescriptor[0] : descriptors.take(from, to);
  }

  /** Closes the unclaimed descriptors that came with bytes before stream position {@code position}. */
  @Override
  public void discardDescriptorsBefore(long position) {
    if (descriptors != null) descriptors.discardBefore(position);
  }

  /**
   * Writes all of {@code src}, with {@code fds} attached (SCM_RIGHTS) to the first byte that
   * leaves. Unix sockets only.
   */
  @Override
  public void writeFully(ByteBuffer src, FileDescriptor[] fds) throws IOException {
    AFUNIXSocketChannel unix = (AFUNIXSocketChannel) channel;
    checkOpen();
    try {
      unix.setOutboundFileDescriptors(fds);
    } catch (IOException e) {
      throw closedOr(e);
    }
    try {
      writeFully(src);
    } finally {
      if (unix.hasOutboundFileDescriptors()) unix.setOutboundFileDescriptors((FileDescriptor[]) null);
    }
  }

  /**
   * Makes {@link #close()} release only this process's descriptor, without shutting the socket
   * down for other processes that hold a duplicate (junixsocket shuts down by default).
   */
  @Override
  public void keepPeerCopiesOnClose() {
    if (channel instanceof AFUNIXSocketChannel unix) {
      modeLock.lock();
      try {
        // Without the shutdown, nothing could wake a receive waiting in read(2): it would stay
        // there after close and take bytes meant for the socket's next holder. A receive that
        // entered read(2) in the instant between this check and the switch below is not caught;
        // passing a connection that another thread is receiving on is a caller's race anyway.
        if (readerInKernel) throw new IllegalStateException("a blocking receive is in progress");
        keepPeerCopies = true; // from now on receives wait in poll, which close wakes
        unix.setShutdownOnClose(false);
        // O_NONBLOCK sits on the open file description, which every copy in every process
        // shares, and CPython's Connection takes EAGAIN for an error: a recv_bytes that comes
        // before the bytes would die with BlockingIOError. So hand the socket on in blocking
        // mode; this side goes non-blocking again only once it reads or writes itself (readNow,
        // writeFully), and for as long as it does, the peers' copies are non-blocking too. A
        // socket some selector still holds (a Wait, an event loop, an earlier timed receive)
        // cannot switch, and stays as it is.
        if (!channel.isRegistered()) channel.configureBlocking(true);
      } catch (IllegalBlockingModeException e) {
        // A reader registered its selector just now (outside this lock): the socket stays
        // non-blocking while this side waits, as for any selector that holds it.
      } catch (IOException e) {
        throw new IllegalStateException("connection is closed", e);
      } finally {
        modeLock.unlock();
      }
    }
  }

  private volatile boolean keepPeerCopies;

  /** Whether a reader waits in a blocking read(2), which only a shutdown wakes. */
  private volatile boolean readerInKernel;

  /**
   * Closes the descriptor behind junixsocket's back. Its close shuts the socket down even with
   * setShutdownOnClose(false) (2.10.1: AFSocketImpl.close calls shutdown first), but it skips the
   * shutdown when the descriptor is no longer valid, and a plain close marks it so.
   */
  private void releaseDescriptorOnly() throws IOException {
    FileDescriptor fd = ((AFUNIXSocketChannel) channel).getFileDescriptor();
    if (fd != null && fd.valid()) new FileInputStream(fd).close();
  }

  /** This socket's descriptor, for passing it on; Unix sockets only. */
  @Override
  public FileDescriptor fileDescriptor() throws IOException {
    return ((AFUNIXSocketChannel) channel).getFileDescriptor();
  }

  /** Writes what the socket takes without waiting; returns the count, possibly 0. */
  @Override
  public int writeNow(ByteBuffer src) throws IOException {
    writes.lock.lock();
    try {
      checkOpen();
      if (channel.isBlocking()) ensureNonBlocking();
      return write(src);
    } catch (IOException e) {
      throw closedOr(e);
    } finally {
      writes.lock.unlock();
    }
  }

}
