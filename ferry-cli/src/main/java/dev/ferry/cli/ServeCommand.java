package dev.ferry.cli;

import dev.ferry.Authentication;
import dev.ferry.Connection;
import dev.ferry.ConnectionOptions;
import dev.ferry.Listener;
import dev.ferry.handle.Access;
import dev.ferry.handle.Inherited;
import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * What {@code echo} and {@code listen} share: bind, announce, serve, stop cleanly on SIGTERM; or
 * serve the one connection on an inherited descriptor ({@code --fd}).
 */
final class ServeCommand {
  private ServeCommand() {}

  static int run(CliContext context, CommandSpec spec, EndpointOptions endpoint,
      ServeOptions serve, Server.Session session) throws IOException, InterruptedException {
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
    PrintWriter out = context.out();
    Server server = new Server(listener, "ferry-" + spec.name() + "-", context.err(),
        maxConnections == null ? 0 : maxConnections, session);
    Thread hook = context.ownsProcess() ? stopOnSignal(server::stop, context) : null;
    try {
      out.println("listening on " + listener.address());
      out.flush();
      server.run();
    } finally {
      server.stop();
      removeHook(hook);
    }
    return 0;
  }

  private static ConnectionOptions options(CommandSpec spec, EndpointOptions endpoint,
      ServeOptions serve) {
    ConnectionOptions options = endpoint.connectionOptions();
    Integer spin = serve.receiveSpinMicros;
    if (spin != null) {
      if (spin < 0 || spin > ServeOptions.MAX_SPIN_MICROS) {
        throw new ParameterException(spec.commandLine(), "--receive-spin-us must be 0 to "
            + ServeOptions.MAX_SPIN_MICROS + ": " + spin);
      }
      options = options.toBuilder().receiveSpin(Duration.ofNanos(spin * 1_000L)).build();
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
      Runtime.getRuntime().halt(0);
    }, "ferry-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }
}
