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

/** {@code ferry demo handoff} against a real CPython and a real Java child. */
@ExtendWith(LeakCheck.class)
class DemoHandoffCommandTest {

  @Test
  void answerComesBackOnTheConnectionThatTravelled() throws Exception {
    Path python = DemoCommandTest.python();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put(PythonFinder.FERRY_PYTHON, python.toString());
    Cli.Result r = Cli.runWithEnv("", env, "demo", "handoff");
    assertEquals("", r.err());
    assertEquals(0, r.exitCode(), r.out());
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.get(0).startsWith("demo handoff: java child "), lines.get(0));
    assertEquals("python -> java: passed reply_to on to the java child, untouched", lines.get(3));
    assertTrue(lines.get(4).matches("java child -> java, on reply_to: java child \\d+ says 42"
        + " to: what is 6 \\* 7\\?"), lines.get(4));
    assertEquals("java child -> java: answered on the connection that came through python",
        lines.get(5));
    assertEquals("demo handoff: done", lines.get(6));
  }
}
