package dev.ferry.internal.connection;

import java.util.Arrays;

/**
 * The hooks of the wait sets that hold a connection: called when input stays buffered after a
 * receive (a selector cannot see it) and on close. Copy on write: the receive path reads the
 * array without a lock; members change under this object's monitor, a leaf in the lock order.
 */
final class WaitWatchers {
  private static final Runnable[] NONE = new Runnable[0];

  private volatile Runnable[] watchers = NONE;

  boolean isEmpty() {
    return watchers.length == 0;
  }

  void runAll() {
    for (Runnable w : watchers) w.run();
  }

  synchronized void add(Runnable watcher) {
    Runnable[] now = Arrays.copyOf(watchers, watchers.length + 1);
    now[now.length - 1] = watcher;
    watchers = now;
  }

  synchronized void remove(Runnable watcher) {
    Runnable[] now = watchers;
    for (int i = 0; i < now.length; i++) {
      if (now[i] == watcher) {
        Runnable[] less = new Runnable[now.length - 1];
        System.arraycopy(now, 0, less, 0, i);
        System.arraycopy(now, i + 1, less, i, now.length - i - 1);
        watchers = less.length == 0 ? NONE : less;
        return;
      }
    }
  }
}
