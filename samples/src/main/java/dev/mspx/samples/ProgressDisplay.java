package dev.mspx.samples;

import dev.mspx.core.Progress;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a long piece of work (training steps, images scored or drawn) as a person or a log
 * wants it. On a terminal: a redrawn bar from me.tongfei:progressbar (done of total, rate, ETA, and a
 * message such as the current bits/dim). Anywhere else (a pipe, a CI log, a test): plain lines, at
 * most one per {@code every} units, plus the last, each
 * complete in itself ({@code step 120/2312 (5%)  3.4123 bits/dim  84.1 img/s  elapsed 1:23  eta 25:01}).
 */
final class ProgressDisplay implements Progress, AutoCloseable {

  private final String task;
  private final String unit;
  private final long every;
  private final PrintWriter plain;
  private final ProgressBar bar;
  private final long startNanos = System.nanoTime();
  private final long startDone;
  private long total;
  private long lastPrinted;
  private String message = "";
  private double perUnit = 1;
  private String rateUnit;

  private ProgressDisplay(String task, String unit, long start, long total, long every, PrintWriter plain, PrintStream terminal) {
    this.task = task;
    this.unit = unit;
    this.startDone = start;
    this.lastPrinted = start;
    this.total = total;
    this.every = Math.max(1, every);
    this.plain = plain;
    this.rateUnit = unit + "/s";
    this.bar = terminal == null ? null : new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(total)
        .startsFrom(start, Duration.ZERO)
        .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
        .setConsumer(new ConsoleProgressBarConsumer(terminal))
        .setUnit(" " + unit, 1)
        .showSpeed()
        .setSpeedUnit(ChronoUnit.SECONDS)
        .setUpdateIntervalMillis(250)
        .build();
  }

  /**
   * A display of {@code total} units (starting at {@code start}, e.g. a resumed step): a bar on
   * {@code terminal} when that is not null, else lines on {@code plain} every {@code every} units.
   */
  static ProgressDisplay of(String task, String unit, long start, long total, long every, PrintWriter plain, PrintStream terminal) {
    return new ProgressDisplay(task, unit, start, total, every, plain, terminal);
  }

  /**
   * Standard output or error as the terminal to draw on, when this JVM's standard output is one
   * (then standard error normally is too); null when it is redirected, so that logs get lines.
   */
  static PrintStream terminal(PrintStream stream) {
    java.io.Console console = System.console();
    return console != null && console.isTerminal() ? stream : null;
  }

  /** Shows the rate also as {@code factor} of another unit per second (e.g. images/s from steps). */
  ProgressDisplay rate(double factor, String otherUnit) {
    this.perUnit = factor;
    this.rateUnit = otherUnit + "/s";
    return this;
  }

  /** A new total (e.g. an estimate of the steps that fit a time budget). */
  void total(long newTotal) {
    total = newTotal;
    if (bar != null) {
      bar.maxHint(newTotal);
    }
  }

  long total() {
    return total;
  }

  /** A short message shown with the progress, e.g. {@code 3.4123 bits/dim}. */
  void message(String text) {
    message = text;
    if (bar != null) {
      bar.setExtraMessage(text);
    }
  }

  @Override
  public void update(long done, long newTotal) {
    if (newTotal != total) {
      total(newTotal);
    }
    if (bar != null) {
      bar.stepTo(done);
      return;
    }
    long now = System.nanoTime();
    boolean last = done >= total;
    if (last || done - lastPrinted >= every) {
      plain.println(line(done, now));
      plain.flush();
      lastPrinted = done;
    }
  }

  /** The plain line for {@code done} units at {@code now}. */
  String line(long done, long now) {
    double seconds = (now - startNanos) / 1e9;
    double rate = seconds > 0 ? (done - startDone) / seconds : 0;
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%s %d/%d (%d%%)", task, done, total, total > 0 ? Math.round(100.0 * done / total) : 0));
    if (!message.isEmpty()) {
      b.append("  ").append(message);
    }
    if (rate > 0) {
      b.append(String.format(Locale.ROOT, "  %.1f %s", rate * perUnit, rateUnit));
    }
    b.append("  elapsed ").append(clock(seconds));
    if (rate > 0 && done < total) {
      b.append("  eta ").append(clock((total - done) / rate));
    }
    return b.toString();
  }

  /** {@code m:ss} or {@code h:mm:ss}. */
  static String clock(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
