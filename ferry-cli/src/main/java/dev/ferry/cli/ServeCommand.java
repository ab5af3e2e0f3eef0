package dev.ferry.cli;

import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** What {@code echo} and {@code listen} share: bind, announce, serve, stop cleanly on SIGTERM. */
final class ServeCommand {
  private ServeCommand() {}

  static int run(CliContext context, CommandSpec spec, EndpointOptions endpoint,
      ServeOptions serve, Server.Session session) throws IOException, InterruptedException {
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
    Server server = new Server(listener, "ferry-" + spec.name() + "-", context.err(),
        maxConnections == null ? 0 : maxConnections, session);
    Thread hook = context.ownsProcess() ? stopOnSignal(server, context) : null;
    try {
      out.println("listening on " + listener.address());
      out.flush();
      server.run();
    } finally {
      server.stop();
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // Shutting down already: the hook is running and ends the process.
        }
      }
    }
    return 0;
  }

  /**
   * SIGTERM (or SIGINT) means "stop serving": close the listener so the socket file goes, and
   * exit 0 rather than the JVM's 143. A shutdown that {@link Main} started itself is left alone.
   */
  private static Thread stopOnSignal(Server server, CliContext context) {
    Thread hook = new Thread(() -> {
      if (Main.isExiting()) return;
      server.stop();
      context.out().flush();
      context.err().flush();
      FlightRecordings.writeBeforeHalt();
      Runtime.getRuntime().halt(0);
    }, "ferry-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }
}
