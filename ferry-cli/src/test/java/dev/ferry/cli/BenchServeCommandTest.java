package dev.ferry.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code ferry bench --serve N}: a real {@code ferry echo} process and the library's reference. */
class BenchServeCommandTest {
  @Test
  void measuresFerryEchoBesideTheReferenceOnBothKinds() {
    Cli.Result result = Cli.run("bench", "--serve", "50");
    assertEquals(0, result.exitCode(), result.err());
    for (String row : new String[] {"| unix | ferry echo | 50 |",
        "| unix | reference: library async echo | 50 |", "| tcp | ferry echo | 50 |",
        "| tcp | reference: library async echo | 50 |"}) {
      assertTrue(result.out().contains(row), result.out());
    }
  }

  @Test
  void refusesFewerThanTenClients() {
    assertEquals(new Cli.Result(2, "", "--serve < 10: 5\n"), Cli.run("bench", "--serve", "5"));
  }

  @Test
  void refusesServeWithScale() {
    assertEquals(new Cli.Result(2, "", "--serve and --scale run alone: pick one\n"),
        Cli.run("bench", "--serve", "50", "--scale", "50"));
  }
}
