package dev.ferry.internal.connection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.function.LongSupplier;

/**
 * What the event loops need from a connection, implemented by the core's one connection class.
 * Every method except {@link #claimAsync}, {@link #close()} and the state accessors is called on
 * the connection's event loop thread only.
 */
public interface AsyncPort {

  SocketChannel channel();

  String description();

  boolean isClosed();

  void close() throws IOException;

  /**
   * Calls {@code watcher} once the connection closed, whoever closed it (a blocking send or
   * receive that cut a frame, the owner), and also after blocking receives that leave input
   * buffered: the watcher checks {@link #isClosed()}. It runs on the closing thread, after the
   * connection released its locks. A JDK selector drops a closed channel's key without a report,
   * so a loop would not hear of the close otherwise.
   */
  void addCloseWatcher(Runnable watcher);

  void removeCloseWatcher(Runnable watcher);

  boolean isReadable();

  boolean isWritable();

  /**
   * Hands the receive side ({@code receive}) or only the send side to the event loop, for good:
   * with the receive side, blocking receives and polls throw {@link IllegalStateException} from
   * now on.
   *
   * @throws IllegalStateException if a blocking receive is in progress, or the connection was
   *     claimed already
   */
  void claimAsync(boolean receive);

  /**
   * The next whole message of at most {@code limit} bytes, or null if it has not all arrived; never
   * waits. Reads from the socket as long as it gives bytes. {@code selected} says the selector
   * just reported the socket readable, so that a first read of nothing means end of stream;
   * {@code hungUp} says the peer hung up, so that any read of nothing means end of stream.
   *
   * @param scratch the loop's receive buffer, lent for the duration of the call
   */
  byte[] receiveAvailable(long limit, boolean selected, boolean hungUp, ByteBuffer scratch) throws IOException;

  /**
   * Moves the next message, of at most {@code limit} bytes, to {@code sink} as its bytes arrive,
   * without waiting: returns its length once all of it was written, or -1 if more is to come (the
   * next call goes on with the same message). If {@code sink} throws, the rest of the message
   * will be skipped. Otherwise as {@link #receiveAvailable}.
   */
  long transferAvailable(long limit, WritableByteChannel sink, boolean selected,
      boolean hungUp, ByteBuffer scratch) throws IOException;

  /**
   * The receive that was streaming a message with {@link #transferAvailable} is gone: skip the
   * rest of that message. Does nothing if no message is being streamed.
   */
  void abandonStream();

  /** Takes the send lock if no blocking sender holds it; blocking sends wait while it is held. */
  boolean tryLockSend();

  void unlockSend();

  /** A message of {@code size} bytes is about to be written, with the send lock held. */
  void prepareWrite(long size);

  /**
   * Writes what the socket takes now, with the send lock held; returns the count of bytes taken
   * from {@code frame}. A TLS connection may take bytes whose records still wait to leave: see
   * {@link #hasPendingOutput()}.
   */
  int writeNow(ByteBuffer frame) throws IOException;

  /**
   * Whether bytes taken by {@link #writeNow} still wait inside the connection for socket space
   * (TLS records); a later {@code writeNow}, with an empty frame if need be, sends them.
   */
  boolean hasPendingOutput();

  /** The largest message the peer can read (see ConnectionOptions.maxSendSize). */
  long maxSendSize();

  /** The exception for a message longer than {@link #maxSendSize()}, naming both. */
  IllegalArgumentException tooLongToSend(long size);

  /** The largest message a receive accepts. */
  long maxMessageSize();

  /**
   * Drops the blocking send path's buffer (64 KiB of native memory an accepted connection got
   * from its handshake) if no blocking send holds it; a later blocking send allocates it again.
   */
  void trimSendBuffer();

  /** Counts messages the loop sent whole, with their payload bytes; under the send lock. */
  void countSent(int messages, long bytes);

  /** Where the connection's metrics read the bytes queued for asynchronous sends. */
  void reportQueuedBytes(LongSupplier queuedBytes);
}
