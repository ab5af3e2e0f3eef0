package dev.ferry.internal.wait;

import dev.ferry.internal.accept.SocketListener;
import dev.ferry.internal.connection.FramedConnection;
import java.nio.channels.SelectionKey;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One object in a wait set: a connection, a listener or a process. Written by the thread that
 * adds it, then by the waiting thread and the group's poller as the comments say; the volatile
 * fields are the ones that more than one of them reads.
 */
final class Member {
  final Object object;
  final FramedConnection connection; // exactly one of these three is set
  final SocketListener listener;
  final ProcessHandle process;
  /** The position in the set: results come in the order members were added. */
  final long order;
  /** Whether the member sits in the engine's suspects queue, so that it is queued once. */
  final AtomicBoolean suspected = new AtomicBoolean();
  volatile boolean removed;
  /** A Unix socket whose peer hung up: junixsocket drops its key and never reports it again. */
  volatile boolean hungUp;
  volatile SelectionKey key;
  /** Undoes what {@link WaitEngine} hooked into the member to hear when it may be ready. */
  volatile Runnable unwatch;
  /** Whether this member holds its connection non-blocking (from registering to cancelling). */
  final AtomicBoolean pinned = new AtomicBoolean();
  /**
   * Whether a background poller reported the socket and switched its key off (interest 0): the
   * member is then among the suspects until the waiting thread hands it back to be watched.
   */
  volatile boolean off;
  /** The connection's {@link FramedConnection#readCount} when its key was last switched on. */
  volatile long readsWhenWatched;
  /** The connection's selector group: set under the state lock before publishing, then fixed. */
  Group group;
  /** The waiting thread's call that last reported it, so that a call reports it once. */
  long reportedInCall;

  Member(Object object, long order) {
    this.object = object;
    this.order = order;
    this.connection = object instanceof FramedConnection c ? c : null;
    this.listener = object instanceof SocketListener l ? l : null;
    this.process = object instanceof Process p ? p.toHandle()
        : object instanceof ProcessHandle h ? h : null;
  }

  /** Cancels the key, if any, and lets the connection's receives block in the kernel again. */
  void cancel() {
    SelectionKey k = key;
    if (k != null) k.cancel();
    if (pinned.compareAndSet(true, false)) connection.releaseSelectableChannel();
  }
}
