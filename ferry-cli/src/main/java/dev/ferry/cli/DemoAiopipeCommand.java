package dev.ferry.cli;

import dev.ferry.RawPipe;
import dev.ferry.async.AsyncRawReader;
import dev.ferry.async.EventLoops;
import dev.ferry.handle.ChildProcess;
import dev.ferry.handle.Handles;
import dev.ferry.handle.Ownership;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;

@Command(
    name = "aiopipe",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
        "Seed 003's example with a Java parent: a raw pipe, one end to a Python child.",
        "",
        "Opens a raw (unframed) pipe, starts a Python child that runs aiopipe's own code "
            + "(standard library asyncio only), hands it the write end (closing this process's "
            + "copy, as aiopipe's `with tx.send()` does) and reads the child's line on an event "
            + "loop. Python: as for `ferry demo`, 3.6 or later.",
        ""})
final class DemoAiopipeCommand implements Callable<Integer> {
  private static final Duration CHILD_TIMEOUT = Duration.ofSeconds(30);

  private final CliContext context;

  DemoAiopipeCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    return run(PythonFinder.require(context.env()));
  }

  int run(Path python) throws IOException, InterruptedException {
    PrintWriter out = context.out();
    Path dir = Files.createTempDirectory("ferry-aiopipe-",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Path module = dir.resolve("aiopipe.py");
    try {
      copyResource(ChildProcess.class, "aiopipe.py", module); // shipped in ferry-core's jar
      try (EventLoops loops = EventLoops.open(); RawPipe pipe = RawPipe.open();
          ChildProcess child = ChildProcess.startPythonCode(python, resource("demo_aiopipe.py"),
              List.of(dir.toString()))) {
        out.println("demo aiopipe: python child " + child.process().pid()
            + " started, running aiopipe from seed 003");
        Handles.sendRawEnd(child.connection(), pipe.writer(), Ownership.MOVE);
        out.println("java -> python: the write end of a raw pipe (this process's copy is closed,"
            + " as aiopipe's `with tx.send()` does)");
        AsyncRawReader rx = AsyncRawReader.of(pipe.reader(), loops);
        byte[] line = await(rx.readLine(65536));
        out.println("python -> java, read on the event loop: " + PyRepr.of(line));
        int exit = child.closeAndWait(CHILD_TIMEOUT);
        if (exit != 0) throw new CommandFailure("python child exited with " + exit);
        if (await(rx.readSome(1)).length != 0) {
          throw new CommandFailure("python child wrote more than one line");
        }
        out.println("end of stream: every copy of the write end is closed");
        out.println("demo aiopipe: done");
        out.flush();
        return 0;
      }
    } finally {
      Files.deleteIfExists(module);
      Files.deleteIfExists(dir);
    }
  }

  private static byte[] await(CompletableFuture<byte[]> read)
      throws IOException, InterruptedException {
    try {
      return read.get(CHILD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new CommandFailure("python child wrote nothing within "
          + CHILD_TIMEOUT.toMillis() + " ms");
    } catch (ExecutionException e) {
      throw new CommandFailure("reading the raw pipe failed: " + e.getCause().getMessage());
    }
  }

  /** Copies {@code owner}'s resource {@code name} to {@code target}, replacing what is there. */
  static void copyResource(Class<?> owner, String name, Path target) throws IOException {
    try (InputStream in = owner.getResourceAsStream(name)) {
      if (in == null) throw new IOException("missing resource " + name);
      Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = DemoAiopipeCommand.class.getResourceAsStream(name)) {
      if (in == null) throw new IOException("missing resource " + name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
