package dev.ferry.cli;

import dev.ferry.Authentication;
import dev.ferry.Connection;
import dev.ferry.Address;
import dev.ferry.ConnectionOptions;
import dev.ferry.SharedMemoryLane;
import dev.ferry.Listener;
import dev.ferry.handle.Access;
import dev.ferry.handle.Inherited;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * What {@code echo} and {@code listen} share: bind, announce, serve, stop cleanly on SIGTERM; or
 * serve the one connection on an inherited descriptor ({@code --fd}).
 *
 * <p>Clients are served on the event loops ({@link EventLoopServer}); with
 * {@code --receive-spin-us} above 0, which spins a thread per connection for its next message, on
 * a thread each ({@link Server}, which also serves one connection on the calling thread).
 */
final class ServeCommand {
  /** Threads for answers that may wait for another process; made only when needed. */
  private static final int BLOCKING_THREADS = 8;

  /** How long a stopping server waits for its last lines to print. */
  private static final Duration LINES_PATIENCE = Duration.ofSeconds(1);

  private ServeCommand() {}

  /**
   * Binds, prints {@code listening on ADDR}, serves until SIGTERM or {@code --max-connections}.
   *
   * @param loopSession serves every client on the event loops (the default); null to serve each
   *     on a thread of its own
   * @param session serves one client on a thread of its own (spinning receives)
   */
  static int run(CliContext context, CommandSpec spec, EndpointOptions endpoint,
      ServeOptions serve, LoopSessions.Factory loopSession, Server.Session session)
      throws IOException, InterruptedException {
    Integer maxConnections = serve.maxConnections;
    if (maxConnections != null && maxConnections < 1) {
      throw new ParameterException(spec.commandLine(),
          "--max-connections must be at least 1: " + maxConnections);
    }
    ConnectionOptions options = options(spec, endpoint, serve);
    if (serve.fd != null) {
      if (endpoint.address != null) {
        throw new ParameterException(spec.commandLine(), "--fd and --address exclude each other");
      }
      if (maxConnections != null) {
        throw new ParameterException(spec.commandLine(),
            "--max-connections does not go with --fd: one connection is served");
      }
      // echo answers, and a handshake answers too; listen alone can serve a pipe's read end.
      boolean sends = spec.name().equals("echo") || options.authKey().isPresent();
      return serveInherited(context, serve.fd, sends, options, session);
    }
    if (endpoint.address == null) {
      throw new ParameterException(spec.commandLine(),
          "Missing required option: '--address=ADDR' or '--fd=N'");
    }
    Listener listener;
    try {
      listener = Listener.bind(endpoint.address, options);
    } catch (IllegalArgumentException e) {
      // A non-loopback TCP address without a key: the command line asked for something unsafe.
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    int max = maxConnections == null ? 0 : maxConnections;
    String name = "ferry-" + spec.name() + "-";
    Integer spin = serve.receiveSpinMicros;
    if ((spin != null && spin > 0) || loopSession == null) {
      Server server = new Server(listener, name, context.err(), max, session);
      serve(context, listener, server::run, server::stop);
      return 0;
    }
    ThreadPoolExecutor blocking = blockingPool(name + "work-");
    try (Lines lines = new Lines(name + "out")) {
      EventLoopServer server = new EventLoopServer(listener, context.err(), lines, max,
          loopSession.create(lines, blocking));
      serve(context, listener, server::run, () -> {
        server.stop();
        lines.drain(LINES_PATIENCE);
      });
    } finally {
      blocking.shutdown();
      blocking.awaitTermination(1, TimeUnit.MINUTES);
    }
    return 0;
  }

  private interface Run {
    void run() throws InterruptedException;
  }

  private static void serve(CliContext context, Listener listener, Run run, Runnable stop)
      throws InterruptedException {
    PrintWriter out = context.out();
    Thread hook = context.ownsProcess() ? stopOnSignal(stop, context) : null;
    try {
      out.println("listening on " + listener.address());
      out.flush();
      run.run();
    } finally {
      stop.run();
      removeHook(hook);
    }
  }

  private static ConnectionOptions options(CommandSpec spec, EndpointOptions endpoint,
      ServeOptions serve) {
    ConnectionOptions options = endpoint.connectionOptions();
    Integer spin = serve.receiveSpinMicros;
    Duration spinTime = null;
    if (spin != null) {
      if (spin < 0 || spin > ServeOptions.MAX_SPIN_MICROS) {
        throw new ParameterException(spec.commandLine(), "--receive-spin-us must be 0 to "
            + ServeOptions.MAX_SPIN_MICROS + ": " + spin);
      }
      spinTime = Duration.ofNanos(spin * 1_000L);
      options = options.toBuilder().receiveSpin(spinTime).build();
    }
    if (serve.sharedMemory) {
      // null: --fd, whose one connection is served as it comes
      if (endpoint.address instanceof Address.Tcp tcp) {
        throw new ParameterException(spec.commandLine(), "--shared-memory needs a unix address"
            + " (unix:PATH or unix:@NAME): a lane's memory cannot travel over " + tcp);
      }
      // A lane receive spins as a socket receive does with --receive-spin-us (docs/LANE.md).
      SharedMemoryLane.Builder lane = SharedMemoryLane.builder();
      if (spinTime != null) lane.spin(spinTime);
      options = options.toBuilder().sharedMemoryLane(lane.build()).build();
    }
    return options;
  }

  /**
   * Serves the one connection on inherited descriptor {@code fd} (a socket; for a command that
   * never {@code sends}, a pipe's read end too): the handshake first if the
   * options carry a key (this side challenges first, as a listener does), then the session until
   * the peer closes (exit 0). A descriptor that cannot be adopted, a failed handshake or a broken
   * session: an exception, which Main prints as one line (exit 1).
   */
  private static int serveInherited(CliContext context, int fd, boolean sends,
      ConnectionOptions options, Server.Session session) throws IOException {
    if (fd < 0) throw new CommandFailure("--fd must be 0 or more: " + fd);
    try (Connection connection = sends ? Inherited.connection(fd, Access.DUPLEX, options)
        : Inherited.connection(fd, options)) {
      AtomicBoolean stopping = new AtomicBoolean();
      Thread hook = context.ownsProcess() ? stopOnSignal(() -> {
        stopping.set(true);
        close(connection);
      }, context) : null;
      try {
        if (options.authKey().isPresent()) {
          Authentication.deliverChallenge(connection, options.authKey().get());
          Authentication.answerChallenge(connection, options.authKey().get());
        }
        session.serve(connection);
      } catch (EOFException e) {
        // The peer closed between messages: done.
      } catch (IOException e) {
        if (!stopping.get()) throw e; // else a signal closed it: the hook ends the process, 0
      } finally {
        removeHook(hook);
      }
    }
    return 0;
  }

  /** Up to {@link #BLOCKING_THREADS} named threads, started on demand, ended when idle. */
  private static ThreadPoolExecutor blockingPool(String prefix) {
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(BLOCKING_THREADS, BLOCKING_THREADS,
        10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, prefix + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  private static void close(Connection connection) {
    try {
      connection.close();
    } catch (IOException e) {
      // Stopping anyway: the process is about to end.
    }
  }

  private static void removeHook(Thread hook) {
    if (hook == null) return;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // Shutting down already: the hook is running and ends the process.
    }
  }

  /**
   * SIGTERM (or SIGINT) means "stop serving": close the listener so the socket file goes, and
   * exit 0 rather than the JVM's 143. A shutdown that {@link Main} started itself is left alone.
   */
  private static Thread stopOnSignal(Runnable stop, CliContext context) {
    Thread hook = new Thread(() -> {
      if (Main.isExiting()) return;
      stop.run();
      context.out().flush();
      context.err().flush();
      FlightRecordings.writeBeforeHalt();
      Runtime.getRuntime().halt(0);
    }, "ferry-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }
}
