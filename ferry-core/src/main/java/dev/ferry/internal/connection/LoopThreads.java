package dev.ferry.internal.connection;

/** What the connection does on an event loop's thread before it touches the socket. */
final class LoopThreads {
  private LoopThreads() {}

  /**
   * Clears an interrupt of the loop thread. A loop thread is Ferry's own, so an interrupt there
   * comes from a user callback run on it and asks the loop for nothing; yet junixsocket's
   * non-blocking read or write on an interrupted thread closes the socket, with whatever the
   * kernel still holds for it.
   */
  static void dropInterrupt() {
    if (Thread.currentThread().isInterrupted()) Thread.interrupted();
  }
}
