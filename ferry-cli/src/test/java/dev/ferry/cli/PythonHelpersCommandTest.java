package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ferry python-helpers DIR}: every shipped module lands in DIR and imports in CPython. */
class PythonHelpersCommandTest {
  @TempDir
  Path temp;

  @Test
  void writesEveryHelperAndPrintsItsPathAndPythonImportsThem() throws Exception {
    Path dir = temp.resolve("made/on/demand");
    Cli.Result r = Cli.run("python-helpers", dir.toString());
    assertEquals("", r.err());
    assertEquals(0, r.exitCode());
    List<String> printed = r.out().lines().toList();
    // Named here, not taken from the command's own list: a module dropped from it must fail.
    List<String> files = List.of("ferry_child.py", "aiopipe.py", "ferry_bulk.py", "ferry_shm.py");
    assertEquals(files.stream().map(f -> dir.resolve(f).toString()).toList(), printed);
    for (String module : printed) assertTrue(Files.size(Path.of(module)) > 0, module);

    String names = String.join(", ", files.stream().map(f -> f.replace(".py", "")).toList());
    Process python = new ProcessBuilder(DemoCommandTest.python().toString(), "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); import " + names + "; print('imported')",
        dir.toString()).redirectErrorStream(true).start();
    assertTrue(python.waitFor(30, TimeUnit.SECONDS));
    String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, python.exitValue(), output);
    assertEquals("imported", output.strip());
  }

  @Test
  void replacesWhatIsThereAndRefusesAFileForADirectory() throws Exception {
    Files.writeString(temp.resolve("ferry_child.py"), "stale");
    assertEquals(0, Cli.run("python-helpers", temp.toString()).exitCode());
    assertTrue(Files.readString(temp.resolve("ferry_child.py")).contains("def connect_to_parent"));

    Path file = Files.writeString(temp.resolve("plain-file"), "x");
    Cli.Result r = Cli.run("python-helpers", file.toString());
    assertEquals(1, r.exitCode());
    assertEquals("cannot write the helpers into " + file + ": not a directory",
        r.err().strip());
  }
}
