package dev.ferry.cli;

import picocli.CommandLine.Option;

/** The options {@code echo} and {@code listen} add to {@link EndpointOptions}. */
final class ServeOptions {
  /** The largest --receive-spin-us: ConnectionOptions.receiveSpin takes at most one second. */
  static final int MAX_SPIN_MICROS = 1_000_000;

  @Option(names = "--max-connections", paramLabel = "N",
      description = "Accept N connections, serve each to its end, then exit.")
  Integer maxConnections;

  @Option(names = "--receive-spin-us", paramLabel = "N",
      description = "Poll each connection for up to N microseconds for the next message before "
          + "sleeping: lower latency for a client that waits on each reply, at the price of a "
          + "busy core (0 to " + MAX_SPIN_MICROS + "; default 0).")
  Integer receiveSpinMicros;
}
