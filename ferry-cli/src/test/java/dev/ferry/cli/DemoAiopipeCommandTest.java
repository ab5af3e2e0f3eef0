package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ferry.LeakCheck;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code ferry demo aiopipe}: seed 003's example with a Java parent and a real CPython child. */
@ExtendWith(LeakCheck.class)
class DemoAiopipeCommandTest {

  @Test
  void javaParentReadsTheLineAiopipeWroteInThePythonChild() throws Exception {
    Path python = DemoCommandTest.python();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(PythonFinder.FERRY_PYTHON, python.toString());
    Cli.Result r = Cli.runWithEnv("", env, "demo", "aiopipe");
    assertEquals("", r.err());
    assertEquals(0, r.exitCode(), r.out());
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.get(0).matches("demo aiopipe: python child \\d+ started, running aiopipe"
        + " from seed 003"), lines.get(0));
    assertEquals("python -> java, read on the event loop: b'hi from child process\\n'",
        lines.get(2));
    assertEquals("end of stream: every copy of the write end is closed", lines.get(3));
    assertEquals("demo aiopipe: done", lines.get(4));
  }
}
