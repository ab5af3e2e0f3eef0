package dev.ferry.cli;

import picocli.CommandLine.Option;

/** The options {@code echo} and {@code listen} add to {@link EndpointOptions}. */
final class ServeOptions {
  /** The largest --receive-spin-us: ConnectionOptions.receiveSpin takes at most one second. */
  static final int MAX_SPIN_MICROS = 1_000_000;

  @Option(names = "--fd", paramLabel = "N",
      description = "Instead of --address: serve the one connection on descriptor N, inherited "
          + "from the parent (Python: subprocess.Popen(..., pass_fds=[N])): a unix socket such as "
          + "a multiprocessing.Pipe() end, or for listen without a key also a pipe's read end "
          + "(Pipe(False)). The handshake runs only with --authkey-hex; exits 0 when the peer "
          + "closes.")
  Integer fd;

  @Option(names = "--max-connections", paramLabel = "N",
      description = "Accept N connections, serve each to its end, then exit.")
  Integer maxConnections;

  @Option(names = "--receive-spin-us", paramLabel = "N",
      description = "Poll each connection for up to N microseconds for the next message before "
          + "sleeping: lower latency for a client that waits on each reply, at the price of a "
          + "busy core (0 to " + MAX_SPIN_MICROS + "; default 0).")
  Integer receiveSpinMicros;

  @Option(names = "--shared-memory",
      description = "Accept a shared-memory lane from unix clients that ask for one (Ferry with "
          + "SharedMemoryLane, Python's ferry_shm): their messages then travel through rings in "
          + "shared memory, the socket staying as doorbell. Stock clients are served over the "
          + "socket as before. With --receive-spin-us, a lane receive spins that long too.")
  boolean sharedMemory;
}
