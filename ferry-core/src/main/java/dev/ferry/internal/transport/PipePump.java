package dev.ferry.internal.transport;

import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.FileChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * Carries the bytes of an inherited {@code os.pipe()} end through a socket pair, so that the end
 * becomes a connection like every other: the JDK and junixsocket cannot wait on a pipe descriptor
 * with a selector, which receives with a timeout, wait sets and event loops need. One thread of
 * its own, {@code ferry-pipe-N}, copies in the pipe's one direction: from a read end into the
 * pair, or from the pair into a write end. The connection gets the pair's other socket.
 *
 * <p>End of stream passes through both ways: the pipe's writer closing ends the connection's
 * stream, and the connection closing closes the write end (its reader sees end of file). Closing
 * the pump closes the pipe (a {@link FileChannel} close wakes a read blocked on it), its socket,
 * and joins the thread.
 */
public final class PipePump implements Closeable {
  private static final AtomicInteger THREADS = new AtomicInteger();
  /** How long closing waits for sent bytes to reach a write end before it cuts them off. */
  static final long DRAIN_MILLIS = 1000;

  private static final System.Logger LOG = System.getLogger(PipePump.class.getName());

  /** The pipe: a read end's or a write end's channel; owns the descriptor. */
  private final FileChannel pipe;
  /** The pair's socket on the pump's side. */
  private final AFUNIXSocketChannel socket;
  private final boolean readEnd;
  private final Thread thread;

  private PipePump(FileChannel pipe, AFUNIXSocketChannel socket, boolean readEnd) {
    this.pipe = pipe;
    this.socket = socket;
    this.readEnd = readEnd;
    this.thread = new Thread(this::run, "ferry-pipe-" + THREADS.incrementAndGet());
    thread.setDaemon(true);
  }

  /**
   * Starts a pump for pipe end {@code fd} (a read end if {@code readEnd}), which it now owns;
   * hands the pump to {@code owner} to close, and returns the socket for the connection.
   */
  static AFUNIXSocketChannel start(FileDescriptor fd, boolean readEnd, Consumer<Closeable> owner)
      throws IOException {
    FileChannel pipe = readEnd ? new FileInputStream(fd).getChannel()
        : new FileOutputStream(fd).getChannel();
    AFUNIXSocketChannel[] pair;
    try {
      pair = SocketPairs.open();
    } catch (IOException e) {
      pipe.close();
      throw e;
    }
    PipePump pump = new PipePump(pipe, pair[1], readEnd);
    owner.accept(pump);
    pump.thread.start();
    return pair[0];
  }

  private void run() {
    ByteChannel from = readEnd ? pipe : socket;
    ByteChannel to = readEnd ? socket : pipe;
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024);
    try {
      while (from.read(buffer.clear()) >= 0) {
        buffer.flip();
        while (buffer.hasRemaining()) to.write(buffer);
      }
    } catch (IOException e) {
      // Closed from the connection's side, or the far end went away: the copy is over.
      LOG.log(System.Logger.Level.DEBUG, "pipe pump stopped", e);
    } finally {
      closeBoth();
    }
  }

  private void closeBoth() {
    try {
      pipe.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing a pipe", e);
    }
    try {
      socket.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing a pipe's socket", e);
    }
  }

  /**
   * Stops the copy once the connection's socket is closed: into a write end, what the connection
   * sent is copied on for up to {@link #DRAIN_MILLIS} (the pipe's reader may be slow); then the
   * pipe and the pump's socket close and the thread is joined.
   */
  @Override
  public void close() throws IOException {
    if (Thread.currentThread() == thread) return;
    try {
      if (!readEnd) thread.join(DRAIN_MILLIS);
      closeBoth();
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      closeBoth();
      Thread.currentThread().interrupt();
    }
  }
}
