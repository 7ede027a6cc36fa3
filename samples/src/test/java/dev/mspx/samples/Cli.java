package dev.mspx.samples;

import dev.mspx.core.data.ArrowImageFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import picocli.CommandLine;

/** Runs the command line in this JVM and keeps what it printed and returned; makes small data sets. */
record Cli(int code, String out, String err) {

  static Cli run(String... args) {
    return run(Main.commandLine(), args);
  }

  static Cli run(CommandLine cli, String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = cli.setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
    return new Cli(code, out.toString(), err.toString());
  }

  /** Standard output, failing with everything when the exit code is not 0. */
  static String ok(String... args) {
    Cli r = run(args);
    if (r.code != 0) {
      throw new AssertionError(String.join(" ", args) + " exited " + r.code + "\n" + r.out + r.err);
    }
    return r.out;
  }

  String all() {
    return out + err;
  }

  /**
   * A Fashion-MNIST-shaped prepared Arrow pair in {@code dir} (labels i mod 10, a few levels so there
   * is something to learn); returns the train file.
   */
  static Path fashionLike(Path dir, int train, int test) throws IOException {
    Path data = Files.createDirectories(dir.resolve("fashion"));
    Random random = new Random(1);
    for (String split : List.of("train", "test")) {
      int n = split.equals("train") ? train : test;
      byte[] images = new byte[n * 28 * 28];
      for (int i = 0; i < images.length; i++) {
        images[i] = (byte) (random.nextInt(4) * 60);
      }
      int[] labels = new int[n];
      for (int i = 0; i < n; i++) {
        labels[i] = i % 10;
      }
      ArrowImageFile.write(data.resolve("tiny-" + split + ".arrow"), 1, 28, 28, images, labels, 10, "test " + split);
    }
    return data.resolve("tiny-train.arrow");
  }

  /** RGB images of {@code size}×{@code size} as a prepared Arrow pair; returns the train file. */
  static Path photosLike(Path dir, int size, int train, int test) throws IOException {
    Path data = Files.createDirectories(dir.resolve("photos" + size));
    Random random = new Random(3);
    for (String split : List.of("train", "test")) {
      int n = split.equals("train") ? train : test;
      byte[] images = new byte[n * 3 * size * size];
      for (int i = 0; i < images.length; i++) {
        images[i] = (byte) (random.nextInt(3) * 100);
      }
      ArrowImageFile.write(data.resolve("rgb-" + split + ".arrow"), 3, size, size, images, null, 0, "rgb " + split);
    }
    return data.resolve("rgb-train.arrow");
  }
}
