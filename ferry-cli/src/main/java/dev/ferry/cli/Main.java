package dev.ferry.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/**
 * The {@code ferry} command. Exit codes: 0 success, 1 the operation failed (one line on stderr
 * saying why), 2 the command line was wrong (one line on stderr naming the bad value).
 */
public final class Main {
  private static final System.Logger LOG = System.getLogger(Main.class.getName());

  /** Set once {@link #main} is about to exit by itself: shutdown hooks tell a signal apart. */
  private static volatile boolean exiting;

  private Main() {}

  public static void main(String[] args) {
    oneLineLogRecords();
    // Output is UTF-8 whatever the locale: replies and messages are printed as UTF-8 text.
    PrintWriter out = new PrintWriter(new OutputStreamWriter(
        new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8));
    PrintWriter err = new PrintWriter(new OutputStreamWriter(
        new FileOutputStream(FileDescriptor.err), StandardCharsets.UTF_8));
    Thread.setDefaultUncaughtExceptionHandler(oneLineUncaught(err));
    int code = run(args, new CliContext(System.in, out, err, System.getenv(), true));
    out.flush();
    err.flush();
    exiting = true;
    System.exit(code);
  }

  /** Runs one command line to its end and returns the exit code; used by tests in-process. */
  static int run(String[] args, CliContext context) {
    int code;
    try {
      code = commandLine(context).execute(args);
    } catch (Error e) {
      // picocli hands on what is not an Exception: a native library that cannot load, say.
      LOG.log(System.Logger.Level.DEBUG, "command failed", e);
      context.err().println(Failures.describe(e));
      code = CommandLine.ExitCode.SOFTWARE;
    }
    context.out().flush();
    context.err().flush();
    return code;
  }

  /** True once {@link #main} decided its exit code; a shutdown that starts earlier is a signal. */
  static boolean isExiting() {
    return exiting;
  }

  static CommandLine commandLine(CliContext context) {
    CommandLine commandLine = new CommandLine(new FerryCommand());
    commandLine.addSubcommand(new EchoCommand(context));
    commandLine.addSubcommand(new ListenCommand(context));
    commandLine.addSubcommand(new SendCommand(context));
    commandLine.addSubcommand(new DemoCommand(context));
    commandLine.getSubcommands().get("demo").addSubcommand(new DemoHandoffCommand(context));
    commandLine.getSubcommands().get("demo").addSubcommand(new DemoAiopipeCommand(context));
    commandLine.addSubcommand(new SelftestCommand(context));
    commandLine.addSubcommand(new BenchCommand(context));
    commandLine.addSubcommand(new PythonHelpersCommand(context));
    commandLine.addSubcommand(new CommandLine.HelpCommand());
    commandLine.setOut(context.out());
    commandLine.setErr(context.err());
    commandLine.setParameterExceptionHandler((e, args) -> {
      PrintWriter err = e.getCommandLine().getErr();
      // Our converters word their own line; picocli's would prefix "Invalid value for option".
      Throwable cause = e.getCause();
      err.println(cause instanceof BadValueException ? cause.getMessage() : e.getMessage());
      err.flush();
      return CommandLine.ExitCode.USAGE;
    });
    commandLine.setExecutionExceptionHandler((e, cmd, parseResult) -> {
      LOG.log(System.Logger.Level.DEBUG, "command failed", e);
      PrintWriter err = cmd.getErr();
      err.println(Failures.describe(e));
      err.flush();
      return CommandLine.ExitCode.SOFTWARE;
    });
    return commandLine;
  }

  /**
   * A failure on a thread of its own (a client's, a library's) would print "Exception in thread"
   * and a stack trace: one line instead, the trace at DEBUG.
   */
  static Thread.UncaughtExceptionHandler oneLineUncaught(PrintWriter err) {
    return (thread, e) -> {
      LOG.log(System.Logger.Level.DEBUG, "uncaught on " + thread.getName(), e);
      err.println("ferry: " + thread.getName() + ": " + Failures.describe(e));
      err.flush();
    };
  }

  /**
   * java.util.logging prints two lines and a stack trace per record by default; stderr lines of
   * this command are one line each. A format given with -D wins.
   */
  private static void oneLineLogRecords() {
    String key = "java.util.logging.SimpleFormatter.format";
    if (System.getProperty(key) == null) System.setProperty(key, "ferry: %4$s: %5$s%n");
  }
}
