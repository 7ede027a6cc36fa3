package dev.mspx.samples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * A run's curve beside its checkpoint: {@code log.csv} (one row per progress window with the mean
 * training bits/dim, one per held-out evaluation with the test bits/dim) and {@code log.png}, the
 * same as a plot drawn by JFreeChart. A resumed run keeps the rows up to the step it resumes from and
 * goes on from there, so the file is one curve however often the run was stopped.
 */
final class TrainingLog {

  static final String HEADER = "step,seconds,images_per_second,train_bits_per_dim,test_bits_per_dim,test_images";

  /** One row: test values NaN (empty in the file) on a training row, training values NaN on a test row. */
  record Row(long step, double seconds, double imagesPerSecond, double train, double test, int testImages) {
    String csv() {
      return step + "," + num(seconds, "%.1f") + "," + num(imagesPerSecond, "%.1f") + "," + num(train, "%.5f") + "," + num(test, "%.5f")
          + "," + (testImages > 0 ? Integer.toString(testImages) : "");
    }

    private static String num(double v, String format) {
      return Double.isNaN(v) ? "" : String.format(Locale.ROOT, format, v);
    }

    static Row parse(String line) {
      String[] f = line.split(",", -1);
      return new Row(Long.parseLong(f[0]), d(f[1]), d(f[2]), d(f[3]), d(f[4]), f[5].isEmpty() ? 0 : Integer.parseInt(f[5]));
    }

    private static double d(String s) {
      return s.isEmpty() ? Double.NaN : Double.parseDouble(s);
    }
  }

  private final Path csv;
  private final Path png;
  private final String title;
  private final List<Row> rows = new ArrayList<>();

  private TrainingLog(Path folder, String title) {
    this.csv = folder.resolve("log.csv");
    this.png = folder.resolve("log.png");
    this.title = title;
  }

  /**
   * The log of the run in {@code folder}: a new one, or for a resumed run the existing rows up to
   * {@code fromStep} (a row this file cannot read ends the kept part).
   */
  static TrainingLog open(Path folder, String title, long fromStep) throws IOException {
    TrainingLog log = new TrainingLog(folder, title);
    if (fromStep > 0 && Files.isRegularFile(log.csv)) {
      List<String> lines = Files.readAllLines(log.csv);
      for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
        try {
          Row r = Row.parse(line);
          if (r.step() > fromStep) {
            break;
          }
          log.rows.add(r);
        } catch (RuntimeException unreadable) {
          break;
        }
      }
    }
    log.writeCsv();
    return log;
  }

  /** The seconds of training the kept rows reach (0 for a new run): a resumed run's clock goes on from there. */
  double secondsSoFar() {
    return rows.isEmpty() ? 0 : rows.get(rows.size() - 1).seconds();
  }

  void add(Row row) throws IOException {
    rows.add(row);
    Files.writeString(csv, row.csv() + "\n", java.nio.file.StandardOpenOption.APPEND);
  }

  List<Row> rows() {
    return List.copyOf(rows);
  }

  private void writeCsv() throws IOException {
    StringBuilder b = new StringBuilder(HEADER).append('\n');
    rows.forEach(r -> b.append(r.csv()).append('\n'));
    Files.writeString(csv, b.toString());
  }

  /**
   * Draws {@code log.png}: training bits/dim (mean per progress window) and test bits/dim against the
   * step. A JDK that cannot draw (no fonts) gets a line on standard error instead of a plot: the CSV
   * has the same numbers.
   */
  void plot() {
    if (rows.isEmpty()) {
      return;
    }
    try {
      Images.write(chart(), png);
    } catch (IOException | RuntimeException | Error e) {
      System.err.println("mspx: " + png + " not drawn (" + e + "); " + csv + " has the same numbers");
    }
  }

  BufferedImage chart() {
    XYSeries train = new XYSeries("training (mean per window)");
    XYSeries test = new XYSeries("held-out test");
    for (Row r : rows) {
      if (!Double.isNaN(r.train())) {
        train.add(r.step(), r.train());
      }
      if (!Double.isNaN(r.test())) {
        test.add(r.step(), r.test());
      }
    }
    XYSeriesCollection data = new XYSeriesCollection();
    data.addSeries(train);
    data.addSeries(test);
    JFreeChart chart = ChartFactory.createXYLineChart(title, "step", "bits/dim", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    plot.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
    renderer.setSeriesPaint(0, new Color(0x1F, 0x77, 0xB4));
    renderer.setSeriesStroke(0, new BasicStroke(1.5f));
    renderer.setSeriesShapesVisible(0, false);
    renderer.setSeriesPaint(1, new Color(0xD6, 0x27, 0x28));
    renderer.setSeriesStroke(1, new BasicStroke(2f));
    renderer.setSeriesShapesVisible(1, true);
    plot.setRenderer(renderer);
    return chart.createBufferedImage(800, 450);
  }
}
