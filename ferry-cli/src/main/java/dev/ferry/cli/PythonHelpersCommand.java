package dev.ferry.cli;

import dev.ferry.handle.ChildProcess;
import dev.ferry.pickle.PickleCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(
    name = "python-helpers",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Writes the Python helper modules Ferry ships into DIR and prints their paths.",
        "",
        "Every module is standard library only; a Python program imports them after "
            + "`sys.path.insert(0, DIR)`. DIR is created if missing; modules already there are "
            + "replaced. Modules: ferry_child (a child started by ChildProcess), aiopipe (seed "
            + "003's raw pipes), ferry_bulk (bulk messages: large buffers as shared memory, "
            + "docs/BULK.md), ferry_shm (Client and Listener with the shared-memory lane, "
            + "docs/FERRY_SHM.md).",
        ""})
final class PythonHelpersCommand implements Callable<Integer> {
  /** A module and the class whose package holds it in its jar. */
  record Helper(Class<?> owner, String file) {}

  /** Every helper module Ferry ships, in the order they are printed. */
  static final List<Helper> HELPERS = List.of(
      new Helper(ChildProcess.class, "ferry_child.py"),
      new Helper(ChildProcess.class, "aiopipe.py"),
      new Helper(PickleCodec.class, "ferry_bulk.py"),
      new Helper(ChildProcess.class, "ferry_shm.py"));

  private final CliContext context;

  @Parameters(index = "0", paramLabel = "DIR", description = "Where to write the modules.")
  Path dir;

  PythonHelpersCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws IOException {
    try {
      Files.createDirectories(dir);
    } catch (FileAlreadyExistsException e) {
      throw new CommandFailure("cannot write the helpers into " + dir + ": not a directory");
    } catch (IOException e) {
      throw new CommandFailure("cannot create " + dir + ": " + e.getMessage());
    }
    PrintWriter out = context.out();
    for (Helper helper : HELPERS) {
      Path target = dir.resolve(helper.file());
      try {
        DemoAiopipeCommand.copyResource(helper.owner(), helper.file(), target);
      } catch (IOException e) {
        throw new CommandFailure("cannot write " + target + ": " + e.getMessage());
      }
      out.println(target.toAbsolutePath().normalize());
    }
    out.flush();
    return 0;
  }
}
