package dev.ferry.internal.accept;

import dev.ferry.Connection;
import dev.ferry.ConnectionClosedException;
import dev.ferry.Listener;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@link Listener#acceptAsync()}: futures waiting for the accept loop's results, served in the
 * order they were asked for, whenever the loop queues a result.
 */
final class AsyncAccepts {
  private final AcceptLoop loop;
  /** Told of each connection a future takes, before its dependents run. */
  private final UnaryOperator<Connection> handedOut;

  // Guarded by lock; never held while a future's dependents run.
  private final ReentrantLock lock = new ReentrantLock();
  private final ArrayDeque<CompletableFuture<Connection>> waiting = new ArrayDeque<>();

  AsyncAccepts(AcceptLoop loop, UnaryOperator<Connection> handedOut) {
    this.loop = loop;
    this.handedOut = handedOut;
    loop.addWatcher(this::serve);
  }

  CompletableFuture<Connection> add() {
    CompletableFuture<Connection> f = new CompletableFuture<>();
    lock.lock();
    try {
      waiting.add(f);
    } finally {
      lock.unlock();
    }
    serve();
    return f;
  }

  /** Hands queued results to waiting futures. Runs on the accept thread or the caller's. */
  private void serve() {
    while (true) {
      CompletableFuture<Connection> f;
      Object result;
      lock.lock();
      try {
        while (!waiting.isEmpty() && waiting.peek().isDone()) waiting.poll(); // cancelled
        if (waiting.isEmpty()) return;
        result = loop.poll();
        if (result == null) return;
        if (result == AcceptLoop.CLOSED) loop.keepClosed(); // for every later accept
        f = waiting.poll();
      } finally {
        lock.unlock();
      }
      boolean taken;
      if (result == AcceptLoop.CLOSED) {
        taken = f.completeExceptionally(new ConnectionClosedException("listener is closed"));
      } else if (result instanceof IOException e) {
        taken = f.completeExceptionally(e);
      } else {
        taken = !f.isDone() && f.complete(handedOut.apply((Connection) result));
      }
      if (!taken && result != AcceptLoop.CLOSED) {
        // Cancelled between the check and now: the result goes back for the next accept.
        loop.putBack(result);
      }
    }
  }
}
