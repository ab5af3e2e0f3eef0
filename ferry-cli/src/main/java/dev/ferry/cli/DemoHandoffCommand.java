package dev.ferry.cli;

import dev.ferry.Pipe;
import dev.ferry.handle.ChildProcess;
import dev.ferry.handle.Handles;
import dev.ferry.handle.Ownership;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(
    name = "handoff",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Pass a connection between processes and get the answer on it (reply_to).",
        "",
        "Starts a Java child and a Python child (standard library only), each with a connection "
            + "to this process, and gives them a pipe of their own. Then one end of another pipe "
            + "travels Java -> Python -> Java child (multiprocessing's send_handle wire format, "
            + "SCM_RIGHTS), and the Java child answers on it: the answer arrives here on the end "
            + "this process kept. Python: as for `ferry demo`.",
        ""})
final class DemoHandoffCommand implements Callable<Integer> {
  private static final Duration CHILD_EXIT = Duration.ofSeconds(10);
  private static final String QUESTION = "what is 6 * 7?";

  private final CliContext context;

  DemoHandoffCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    Path python = PythonFinder.require(context.env());
    return run(python);
  }

  int run(Path python) throws IOException, InterruptedException {
    PrintWriter out = context.out();
    try (ChildProcess java = ChildProcess.startJava(HandoffWorker.class, List.of());
        ChildProcess py = ChildProcess.startPythonCode(python, script(), List.of());
        Pipe.Duplex link = Pipe.duplex();
        Pipe.Duplex reply = Pipe.duplex()) {
      out.println("demo handoff: java child " + java.process().pid() + " and python child "
          + py.process().pid() + " started, each connected to this process");
      // Python and the Java child get a link of their own: one end each.
      Handles.send(java.connection(),
          new HashMap<>(Map.of("python", link.first(), "question", QUESTION)), Ownership.MOVE);
      Handles.sendConnection(py.connection(), link.second(), Ownership.MOVE);
      out.println("java -> java child, java -> python: one end each of a new pipe, so that they"
          + " can talk directly (descriptors ride along with SCM_RIGHTS; ours are closed)");
      // The reply_to end travels java -> python -> java child; the answer comes back on it.
      Handles.sendConnection(py.connection(), reply.second(), Ownership.MOVE);
      out.println("java -> python: reply_to, the other end of a pipe whose first end we keep"
          + " (send_handle format)");
      out.flush();
      out.println("python -> java: "
          + new String(py.connection().receiveBytes(), StandardCharsets.UTF_8));
      out.println("java child -> java, on reply_to: "
          + new String(reply.first().receiveBytes(), StandardCharsets.UTF_8));
      out.println("java child -> java: "
          + new String(java.connection().receiveBytes(), StandardCharsets.UTF_8));
      int javaExit = java.closeAndWait(CHILD_EXIT);
      int pyExit = py.closeAndWait(CHILD_EXIT);
      if (javaExit != 0 || pyExit != 0) {
        throw new CommandFailure("children exited with " + javaExit + " (java) and " + pyExit
            + " (python)");
      }
      out.println("demo handoff: done");
      out.flush();
      return 0;
    }
  }

  private static String script() throws IOException {
    try (InputStream in = DemoHandoffCommand.class.getResourceAsStream("demo_handoff.py")) {
      if (in == null) throw new IOException("missing resource demo_handoff.py");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
