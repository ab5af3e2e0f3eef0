package dev.ferry.cli;

import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * What {@code echo} and {@code listen} share: bind, announce, serve, stop cleanly on SIGTERM.
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
   * @param loopSession serves every client on the event loops (the default)
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
    ConnectionOptions options = endpoint.connectionOptions();
    Integer spin = serve.receiveSpinMicros;
    if (spin != null) {
      if (spin < 0 || spin > ServeOptions.MAX_SPIN_MICROS) {
        throw new ParameterException(spec.commandLine(), "--receive-spin-us must be 0 to "
            + ServeOptions.MAX_SPIN_MICROS + ": " + spin);
      }
      options = options.toBuilder().receiveSpin(Duration.ofNanos(spin * 1_000L)).build();
    }
    Listener listener;
    try {
      listener = Listener.bind(endpoint.address, options);
    } catch (IllegalArgumentException e) {
      // A non-loopback TCP address without a key: the command line asked for something unsafe.
      throw new ParameterException(spec.commandLine(), e.getMessage(), e);
    }
    PrintWriter out = context.out();
    int max = maxConnections == null ? 0 : maxConnections;
    String name = "ferry-" + spec.name() + "-";
    if (spin != null && spin > 0) {
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
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // Shutting down already: the hook is running and ends the process.
        }
      }
    }
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
      Runtime.getRuntime().halt(0);
    }, "ferry-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }
}
