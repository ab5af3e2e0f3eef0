package dev.ferry.internal.async;

import dev.ferry.ConnectionClosedException;
import dev.ferry.internal.raw.RawEnd;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;

/**
 * What both async ends of a raw pipe share: registering with the loop, the closed flag, and
 * closing on the loop thread, which releases the key and the descriptor and then fails whatever
 * the subclass still has queued. Everything but the closed flag belongs to the loop thread.
 */
abstract sealed class AsyncRawEnd implements EventLoop.Handler
    permits AsyncRawReadEnd, AsyncRawWriteEnd {
  private static final System.Logger LOG = System.getLogger(AsyncRawEnd.class.getName());

  final RawEnd end;
  final EventLoop loop;
  volatile boolean closed;

  // Loop thread only.
  SelectionKey key;

  AsyncRawEnd(RawEnd end, EventLoop loop) {
    this.end = end;
    this.loop = loop;
  }

  /** Claims {@code end} for this object and registers it with the loop, on the loop. */
  final void start() {
    end.claimAsync(this::close);
    loop.execute(this::register);
  }

  private void register() {
    if (closed) return;
    if (loop.isClosing()) {
      loopClosed();
      return;
    }
    try {
      key = loop.register(end.channel(), this);
    } catch (ClosedChannelException | RuntimeException e) {
      closeNow(closedException());
      return;
    }
    registered();
  }

  /** Loop thread: the key exists; serve what was queued before it did. */
  abstract void registered();

  /** Loop thread: fail every pending operation with {@code cause}. */
  abstract void failPending(IOException cause);

  /** "raw pipe read end" or "raw pipe write end", for messages. */
  abstract String what();

  /** Loop thread: sets {@code ops} as the key's interest unless it has them already. */
  final void interest(int ops) {
    if (key == null || !key.isValid()) return;
    if (key.interestOps() != ops) key.interestOps(ops);
  }

  public final void close() {
    if (closed) return;
    closed = true;
    loop.execute(() -> closeNow(closedException()));
  }

  /** Loop thread: releases the key and the descriptor, fails everything pending. */
  void closeNow(IOException cause) {
    closed = true;
    if (key != null) key.cancel();
    loop.leave(this);
    try {
      end.closeDescriptor();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "closing " + this, e);
    }
    failPending(cause);
  }

  @Override
  public final void loopClosed() {
    closeNow(closedException());
  }

  final ConnectionClosedException closedException() {
    return new ConnectionClosedException(what() + " is closed");
  }

  public final boolean isClosed() {
    return closed;
  }
}
