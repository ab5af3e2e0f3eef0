package dev.ferry.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** The run's results as a Markdown table and as JSON. */
final class Report {
  private Report() {}

  /** Sets each row's ratio: its median over the median of its reference row. */
  static void computeRatios(List<Row> rows) {
    for (Row row : rows) {
      if (row.reference == null || row.reference.equals(row.configuration) || !row.hasSamples()) {
        continue;
      }
      for (Row ref : rows) {
        if (ref.workload.equals(row.workload) && ref.configuration.equals(row.reference)
            && ref.metric.equals(row.metric) && ref.hasSamples()) {
          row.ratio = row.median() / ref.median();
        }
      }
    }
  }

  static void markdown(List<Row> rows, BenchOptions options, PrintWriter out) {
    out.println("| workload | configuration | metric | median | min | max | ratio | vs |");
    out.println("|---|---|---|--:|--:|--:|--:|---|");
    for (Row row : rows) {
      String metric = row.metric.name().equals(row.metric.unit())
          ? row.metric.unit() : row.metric.name() + " (" + row.metric.unit() + ")";
      if (!row.hasSamples()) {
        out.printf("| %s | %s | %s | %s | | | | |%n", row.workload, row.configuration, metric,
            row.skipped == null ? "no samples" : row.skipped);
        continue;
      }
      boolean isReference = row.configuration.equals(row.reference);
      out.printf("| %s | %s | %s | %s | %s | %s | %s | %s |%n", row.workload, row.configuration,
          metric, number(row.median()), number(Stats.min(row.samples)),
          number(Stats.max(row.samples)),
          isReference ? "1 (ref)" : row.ratio == null ? "" : String.format(Locale.ROOT, "%.2f×",
              row.ratio),
          isReference || row.ratio == null ? "" : row.reference);
    }
    out.println();
    out.printf("%d repetitions%s, round-robin; median, min and max over repetitions. ratio = this"
        + " median / the reference's median: above 1 is better for msg/s, MB/s and ops/s, below 1"
        + " is better for times (µs). MB = 10^6 bytes.%n", options.repetitions(),
        options.quick() ? " (--quick: fewer messages per trial)" : "");
  }

  static void json(List<Row> rows, BenchOptions options, Path file) throws IOException {
    StringBuilder json = new StringBuilder();
    json.append("{\n  \"date\": ").append(quote(Instant.now().toString()))
        .append(",\n  \"quick\": ").append(options.quick())
        .append(",\n  \"repetitions\": ").append(options.repetitions())
        .append(",\n  \"java\": ").append(quote(System.getProperty("java.vm.name") + " "
            + System.getProperty("java.runtime.version")))
        .append(",\n  \"processors\": ").append(Runtime.getRuntime().availableProcessors())
        .append(",\n  \"results\": [");
    String separator = "\n";
    for (Row row : rows) {
      json.append(separator).append("    {\"workload\": ").append(quote(row.workload))
          .append(", \"configuration\": ").append(quote(row.configuration))
          .append(", \"metric\": ").append(quote(row.metric.name()))
          .append(", \"unit\": ").append(quote(row.metric.unit()))
          .append(", \"higherIsBetter\": ").append(row.metric.higherIsBetter());
      if (row.hasSamples()) {
        json.append(", \"samples\": [");
        for (int i = 0; i < row.samples.size(); i++) {
          if (i > 0) json.append(", ");
          json.append(plain(row.samples.get(i)));
        }
        json.append("], \"median\": ").append(plain(row.median()))
            .append(", \"min\": ").append(plain(Stats.min(row.samples)))
            .append(", \"max\": ").append(plain(Stats.max(row.samples)));
        if (row.reference != null) json.append(", \"reference\": ").append(quote(row.reference));
        if (row.ratio != null) json.append(", \"ratio\": ").append(plain(row.ratio));
      } else {
        json.append(", \"skipped\": ").append(quote(row.skipped == null ? "no samples" : row.skipped));
      }
      json.append('}');
      separator = ",\n";
    }
    json.append("\n  ]\n}\n");
    Files.writeString(file, json, StandardCharsets.UTF_8);
  }

  static String number(double v) {
    if (Math.abs(v) >= 1000) return String.format(Locale.ROOT, "%,.0f", v);
    if (Math.abs(v) >= 10) return String.format(Locale.ROOT, "%.1f", v);
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String plain(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }

  private static String quote(String s) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        default -> {
          if (c < 0x20) out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    return out.append('"').toString();
  }
}
