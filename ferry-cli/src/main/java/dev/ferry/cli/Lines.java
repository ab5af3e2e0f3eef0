package dev.ferry.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Prints lines for the event-loop server on one thread of its own, {@code ferry-<command>-out}:
 * a terminal or a pipe that nobody reads must never stall an event loop. Lines print whole and in
 * the order they were handed in.
 */
final class Lines implements AutoCloseable {
  private final ExecutorService thread;

  Lines(String name) {
    thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /** Prints {@code line} on {@code to} and flushes; completes once it was written. */
  CompletableFuture<Void> print(PrintWriter to, String line) {
    return CompletableFuture.runAsync(() -> {
      to.println(line);
      to.flush();
    }, thread);
  }

  /**
   * Takes no more lines and waits up to {@code patience} for those handed in to print: on
   * SIGTERM, lines already due still reach the terminal, and a stdout nobody reads cannot hold
   * up the exit for long.
   */
  void drain(Duration patience) {
    thread.shutdown();
    try {
      thread.awaitTermination(patience.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Prints what was handed in so far, then ends the thread; an interrupt stops the wait. */
  @Override
  public void close() {
    thread.shutdown();
    try {
      while (!thread.awaitTermination(1, TimeUnit.MINUTES)) {
        // Still writing into a pipe that is slow to drain: keep waiting, the lines matter.
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
