package dev.ferry.bench;

import java.awt.AWTError;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.imageio.ImageIO;

/**
 * A PNG of every ratio in the run, one horizontal bar per row, drawn with the JDK's own 2D API in
 * headless mode (no plotting library: one chart type does not justify a dependency). Bars that
 * are better than the reference are green, worse ones orange; the line marks 1. Text is drawn
 * last and apart, so that a runtime without a working font library still gets the bars.
 */
final class BarChart {
  private static final int WIDTH = 1100;
  static final int ROW_HEIGHT = 18;
  static final int LABEL_WIDTH = 640;
  static final int TOP = 40;

  private BarChart() {}

  /** Draws a chart's text: the part that needs the Java runtime's font library. */
  interface Labels {
    void draw(Graphics2D g, List<Row> bars, double most, double scale);
  }

  /**
   * Writes the chart to {@code file}. A Java runtime that cannot load its font library (a
   * headless JDK without libharfbuzz or fontconfig, say) gets the bars without text instead:
   * the returned line says so and what is missing; otherwise it is empty.
   *
   * @throws IOException if the file cannot be written, or no PNG at all can be drawn here
   */
  static Optional<String> write(List<Row> rows, Path file) throws IOException {
    return write(rows, file, BarChart::drawText);
  }

  static Optional<String> write(List<Row> rows, Path file, Labels labels) throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<Row> bars = new ArrayList<>();
    for (Row row : rows) {
      // MB/s says the same as msg/s beside it: one bar per configuration is enough.
      if (row.ratio != null
          && !(row.metric.equals(Metric.MB_PER_S) && hasMessagesPerSecond(rows, row))) {
        bars.add(row);
      }
    }
    BufferedImage image;
    Optional<String> note = Optional.empty();
    try {
      image = draw(bars, labels);
    } catch (LinkageError | AWTError | InternalError e) {
      // The font library failed to load (UnsatisfiedLinkError first, NoClassDefFoundError on
      // later tries) or fontconfig failed: the bars need no font.
      note = Optional.of("plot " + file + " drawn without labels: " + missing(e));
      image = draw(bars, null);
    }
    ImageIO.setUseCache(false); // no temporary file: the PNG goes straight to its own
    try (OutputStream out = Files.newOutputStream(file)) {
      if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer");
    }
    return note;
  }

  /** What the Java runtime lacks, in one line: the deepest message of {@code e}. */
  static String missing(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null) cause = cause.getCause();
    String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    return "this java runtime cannot load its font library (" + message + ")";
  }

  /** The bars and the line at 1; with {@code labels} null, nothing that needs a font. */
  private static BufferedImage draw(List<Row> bars, Labels labels) {
    double most = 1.0;
    for (Row row : bars) most = Math.max(most, row.ratio);
    most = Math.min(most, 10); // one outlier should not squash the rest
    int height = TOP + bars.size() * ROW_HEIGHT + 30;
    BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, height);
      int plotWidth = WIDTH - LABEL_WIDTH - 70;
      double scale = plotWidth / most;
      for (int i = 0; i < bars.size(); i++) {
        Row row = bars.get(i);
        int y = TOP + i * ROW_HEIGHT;
        boolean better = row.metric.higherIsBetter() ? row.ratio >= 1 : row.ratio <= 1;
        g.setColor(better ? new Color(0x2e7d32) : new Color(0xef6c00));
        g.fillRect(LABEL_WIDTH, y + 3, Math.max(1, barWidth(row, most, scale)), ROW_HEIGHT - 6);
      }
      g.setColor(Color.DARK_GRAY);
      g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
          new float[] {4f, 3f}, 0f));
      int one = LABEL_WIDTH + (int) Math.round(scale);
      g.drawLine(one, TOP - 4, one, TOP + bars.size() * ROW_HEIGHT);
      if (labels != null) labels.draw(g, bars, most, scale);
    } finally {
      g.dispose();
    }
    return image;
  }

  private static int barWidth(Row row, double most, double scale) {
    return (int) Math.round(Math.min(row.ratio, most) * scale);
  }

  /** The title, each bar's name and ratio, and the 1 under its line. */
  private static void drawText(Graphics2D g, List<Row> bars, double most, double scale) {
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING,
        RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.drawString("ferry bench: ratio to the reference (green: better, orange: worse)", 10, 22);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    for (int i = 0; i < bars.size(); i++) {
      Row row = bars.get(i);
      int y = TOP + i * ROW_HEIGHT;
      String label = row.workload + " · " + row.configuration + " · " + row.metric.name();
      g.drawString(fit(g, label), 10, y + ROW_HEIGHT - 5);
      g.drawString(String.format(Locale.ROOT, "%.2f", row.ratio),
          LABEL_WIDTH + barWidth(row, most, scale) + 4, y + ROW_HEIGHT - 5);
    }
    g.setColor(Color.DARK_GRAY);
    int one = LABEL_WIDTH + (int) Math.round(scale);
    g.drawString("1", one - 3, TOP + bars.size() * ROW_HEIGHT + 14);
  }

  private static boolean hasMessagesPerSecond(List<Row> rows, Row row) {
    for (Row other : rows) {
      if (other.workload.equals(row.workload) && other.configuration.equals(row.configuration)
          && other.metric.equals(Metric.MESSAGES_PER_S)) {
        return true;
      }
    }
    return false;
  }

  private static String fit(Graphics2D g, String label) {
    String text = label;
    while (g.getFontMetrics().stringWidth(text) > LABEL_WIDTH - 20 && text.length() > 4) {
      text = text.substring(0, text.length() - 2);
    }
    return text.equals(label) ? label : text + "…";
  }
}
