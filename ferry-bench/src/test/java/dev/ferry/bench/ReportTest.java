package dev.ferry.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
  private static Row row(String configuration, String reference, Metric metric, double... values) {
    Row row = new Row("one-way 64 B", configuration, metric);
    row.reference = reference;
    for (double v : values) row.samples.add(v);
    return row;
  }

  @Test
  void ratioIsMedianOverTheReferenceMedianOfTheSameMetric() {
    Row c = row("C", "C", Metric.MESSAGES_PER_S, 100, 90, 300);
    Row ferry = row("Ferry", "C", Metric.MESSAGES_PER_S, 200, 150, 250);
    Row ferryBytes = row("Ferry", "C", Metric.MB_PER_S, 1, 2, 3);
    Report.computeRatios(List.of(c, ferry, ferryBytes));
    assertEquals(2.0, ferry.ratio, 1e-9);
    assertNull(c.ratio, "the reference has no ratio to itself");
    assertNull(ferryBytes.ratio, "no reference row for MB/s");
  }

  @Test
  void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    assertEquals(2.5, Stats.median(List.of(4.0, 1.0, 2.0, 3.0)), 1e-9);
    assertEquals(3, Stats.quantile(new long[] {1, 2, 3, 4, 5}, 0.5));
    assertEquals(5, Stats.quantile(new long[] {1, 2, 3, 4, 5}, 0.99));
  }

  @Test
  void tableMarksTheReferenceAndNamesWhySomethingWasSkipped() {
    Row c = row("C", "C", Metric.MESSAGES_PER_S, 100);
    Row ferry = row("Ferry", "C", Metric.MESSAGES_PER_S, 250);
    Row skipped = row("CPython", "C", Metric.MESSAGES_PER_S);
    skipped.skipped = "skipped: no gcc on PATH, C reference skipped";
    List<Row> rows = List.of(c, ferry, skipped);
    Report.computeRatios(rows);
    StringWriter text = new StringWriter();
    Report.markdown(rows, BenchOptions.quickRun(), new PrintWriter(text, true));
    String table = text.toString();
    assertTrue(table.contains("| one-way 64 B | C | msg/s | 100.0 | 100.0 | 100.0 | 1 (ref) |  |"),
        table);
    assertTrue(table.contains("| one-way 64 B | Ferry | msg/s | 250.0 | 250.0 | 250.0 | 2.50× | C |"),
        table);
    assertTrue(table.contains("| CPython | msg/s | skipped: no gcc on PATH"), table);
  }

  @Test
  void jsonCarriesSamplesRatiosAndSkips(@TempDir Path dir) throws Exception {
    Row c = row("C", "C", Metric.MEDIAN_US, 10);
    Row ferry = row("Ferry \"quoted\"", "C", Metric.MEDIAN_US, 11);
    Row skipped = row("CPython", "C", Metric.MEDIAN_US);
    skipped.skipped = "skipped: none";
    List<Row> rows = List.of(c, ferry, skipped);
    Report.computeRatios(rows);
    Path file = dir.resolve("bench.json");
    Report.json(rows, BenchOptions.defaults(), file);
    String json = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(json.contains("\"configuration\": \"Ferry \\\"quoted\\\"\""), json);
    assertTrue(json.contains("\"ratio\": 1.10000"), json);
    assertTrue(json.contains("\"skipped\": \"skipped: none\""), json);
    assertTrue(json.contains("\"repetitions\": 5"), json);
  }

  @Test
  void drawsOneBarPerRatioAsPng(@TempDir Path dir) throws Exception {
    Row c = row("C", "C", Metric.MESSAGES_PER_S, 100);
    Row ferry = row("Ferry", "C", Metric.MESSAGES_PER_S, 80);
    List<Row> rows = List.of(c, ferry);
    Report.computeRatios(rows);
    Path file = dir.resolve("bench.png");
    BarChart.write(rows, file);
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(1100, image.getWidth());
    assertTrue(image.getHeight() > 40, "room for the title and one bar: " + image.getHeight());
  }

  @Test
  void drawsTheBarsWithoutTextAndSaysWhatIsMissingWhenTheFontLibraryCannotLoad(@TempDir Path dir)
      throws Exception {
    Row c = row("C", "C", Metric.MESSAGES_PER_S, 100);
    Row ferry = row("Ferry", "C", Metric.MESSAGES_PER_S, 80);
    List<Row> rows = List.of(c, ferry);
    Report.computeRatios(rows);
    Path file = dir.resolve("bench.png");
    String lack = "/jdk/lib/libfontmanager.so: libharfbuzz.so.0: cannot open shared object file";
    Optional<String> note = BarChart.write(rows, file, (g, bars, most, scale) -> {
      throw new UnsatisfiedLinkError(lack);
    });
    assertEquals(Optional.of("plot " + file + " drawn without labels: this java runtime cannot "
        + "load its font library (" + lack + ")"), note);
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(1100, image.getWidth());
    int bar = image.getRGB(BarChart.LABEL_WIDTH + 2, BarChart.TOP + BarChart.ROW_HEIGHT / 2);
    assertEquals(0xef6c00, bar & 0xffffff, "Ferry's bar, worse than C: orange");
  }

  @Test
  void rejectsFewerThanOneRepetition() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.defaults().withRepetitions(0));
    assertEquals("repetitions < 1: 0", e.getMessage());
  }

  @Test
  void onlyKeepsTheWorkloadsWhoseNameThePatternFinds() {
    BenchOptions all = BenchOptions.defaults();
    assertTrue(all.runs("one-way 4 KiB"));
    BenchOptions some = all.withOnly(java.util.regex.Pattern.compile("one-way 4 KiB|round trip"));
    assertTrue(some.runs("one-way 4 KiB"));
    assertTrue(some.runs("64 B round trip"));
    assertFalse(some.runs("one-way 64 KiB"));
    assertFalse(some.runs("one 100 MiB message"));
  }
}
