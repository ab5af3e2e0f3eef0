package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.ferry.LeakCheck;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LeakCheck.class)
class SelftestCommandTest {
  @Test
  void printsOneLinePerCheckAndExitsZeroWhenAllAreOk() {
    Cli.Result r = Cli.run("selftest");
    List<String> names = r.out().lines().map(line -> line.substring(0, line.indexOf(": "))).toList();
    assertEquals(List.of("socket pair round trip", "unix path", "abstract name", "tcp v4", "tcp v6"),
        names);
    // Every transport works on the machines that build Ferry; a failure line says which did not.
    assertEquals("socket pair round trip: ok\nunix path: ok\nabstract name: ok\ntcp v4: ok\n"
        + "tcp v6: ok\n", r.out());
    assertEquals(0, r.exitCode());
    assertEquals("", r.err());
  }
}
