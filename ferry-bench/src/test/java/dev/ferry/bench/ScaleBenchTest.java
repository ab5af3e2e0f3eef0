package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scale workload with a few hundred connections per kind: every connection authenticated,
 * served through one wait set, and every echo back and checked (the run throws on one missing or
 * wrong). Asserts what was served, not how fast: the full 10,000 is {@code ferry bench --scale}.
 */
class ScaleBenchTest {
  private static final int CONNECTIONS = Integer.getInteger("ferry.scale.test.connections", 300);

  @Test
  void servesEveryConnectionOfAChildJvmAndLosesNoMessage() throws Exception {
    StringWriter progress = new StringWriter();
    List<ScaleBench.Result> results =
        ScaleBench.measure(CONNECTIONS, new PrintWriter(progress, true));
    assertEquals(List.of("unix", "tcp"), results.stream().map(ScaleBench.Result::kind).toList());
    for (ScaleBench.Result r : results) {
      assertEquals(CONNECTIONS, r.connections(), r.kind());
      assertEquals(ScaleBench.registeredCounts(CONNECTIONS), r.costs().stream()
          .map(ScaleBench.Cost::registered).toList(), r.kind());
    }
    StringWriter table = new StringWriter();
    ScaleBench.report(results, new PrintWriter(table, true));
    assertTrue(table.toString().contains(String.format("| unix | %,d |", CONNECTIONS)),
        table.toString());
    System.out.print(table);
  }
}
