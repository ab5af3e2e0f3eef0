package dev.ferry.internal.thread;

/** Waiting for Ferry's own threads (accept loops, event loops, wait-set pollers) to end. */
public final class Threads {
  private Threads() {}

  /**
   * Waits until {@code thread} has ended, unless it is the calling thread (a loop closing itself
   * from a callback). An interrupt does not cut the wait short: it is kept for the caller.
   */
  public static void joinUninterruptibly(Thread thread) {
    boolean interrupted = false;
    while (thread.isAlive() && thread != Thread.currentThread()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
