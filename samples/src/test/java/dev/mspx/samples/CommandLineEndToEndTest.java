package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import dev.mspx.core.data.ArrowImageFile;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The user's path through the command line on a small Fashion-MNIST-shaped data set made here: train,
 * resume, evaluate (with the per-sub-pixel CSV) and sample, on the CPU backend.
 */
class CommandLineEndToEndTest {

  @TempDir Path dir;

  /** Runs a command; returns its standard output, failing with it when the exit code is not 0. */
  private String run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    CommandLine cli = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    int code = cli.execute(args);
    assertEquals(0, code, String.join(" ", args) + "\n" + out + err);
    return out.toString();
  }

  /** A small Fashion-MNIST-shaped data set as a prepared Arrow pair; returns the train file. */
  private Path fashionLike(int train, int test) throws IOException {
    Path data = Files.createDirectories(dir.resolve("fashion"));
    Random random = new Random(1);
    for (String split : List.of("train", "test")) {
      int n = split.equals("train") ? train : test;
      byte[] images = new byte[n * 28 * 28];
      for (int i = 0; i < images.length; i++) {
        images[i] = (byte) (random.nextInt(4) * 60); // few levels, so the model has something to learn
      }
      int[] labels = new int[n];
      for (int i = 0; i < n; i++) {
        labels[i] = i % 10;
      }
      ArrowImageFile.write(data.resolve("tiny-" + split + ".arrow"), 1, 28, 28, images, labels, 10, "test " + split);
    }
    return data.resolve("tiny-train.arrow");
  }

  @Test
  void trainResumeEvaluateSample() throws IOException {
    Path data = fashionLike(16, 4);
    Path out = dir.resolve("run");
    String cache = dir.resolve("cache").toString();
    String trained = run("train", "--config", "fashion28", "--data", data.toString(), "--cache", cache,
        "--steps", "2", "--batch", "4", "--log-every", "1", "--backend", "cpu", "--out", out.toString());
    assertTrue(trained.contains("step 2/2 (100%)"), trained);
    Path checkpoint = out.resolve("checkpoint.arrow");
    assertTrue(Files.isRegularFile(checkpoint));

    String resumed = run("train", "--config", "fashion28", "--data", data.toString(), "--cache", cache,
        "--steps", "3", "--batch", "4", "--log-every", "1", "--backend", "cpu", "--out", out.toString(), "--resume");
    assertTrue(resumed.contains("resumed") && resumed.contains("step 3/3 (100%)"), resumed);

    Path csv = dir.resolve("subpixels.csv");
    String eval = run("eval", "--checkpoint", checkpoint.toString(), "--data", data.toString(), "--cache", cache,
        "--limit", "2", "--batch", "2", "--backend", "cpu", "--per-subpixel", csv.toString());
    String last = eval.strip().lines().reduce((a, b) -> b).orElseThrow();
    assertTrue(last.matches("bits/dim: \\d+\\.\\d{4} \\(2 images\\)"), last);
    List<String> rows = Files.readAllLines(csv);
    assertEquals("image,channel,y,x,bits", rows.get(0));
    assertEquals(1 + 2 * 28 * 28, rows.size());

    Path png = dir.resolve("samples.png");
    String sampled = run("sample", "--checkpoint", checkpoint.toString(), "--count", "2", "--seed", "3",
        "--backend", "cpu", "--out", png.toString());
    // Cached base net: one backend evaluation for the 7x7 base instead of 49, then 2 upscalings x 3 groups x (trunk + head).
    assertTrue(sampled.contains("13 network evaluations, raster part cached"), sampled);
    BufferedImage image = ImageIO.read(png.toFile());
    // Two images side by side, each 28 pixels at 4x (about 100 screen pixels), 4-pixel gaps; grey.
    assertEquals(2 * (4 * 28 + 4) + 4, image.getWidth());
    assertEquals(1, image.getColorModel().getNumComponents(), "a grey model's samples are a grey PNG");
    Path fullPng = dir.resolve("samples-full.png");
    String full = run("sample", "--checkpoint", checkpoint.toString(), "--count", "2", "--seed", "3",
        "--backend", "cpu", "--raster", "full", "--out", fullPng.toString());
    assertTrue(full.contains("61 network evaluations, raster part full"), full);
    assertArrayEquals(Files.readAllBytes(png), Files.readAllBytes(fullPng), "cached and full raster sampling drew other images");
  }

  @Test
  void startingOverAnExistingRunIsRefused() throws IOException {
    Path data = fashionLike(8, 4);
    Path out = dir.resolve("run");
    String cache = dir.resolve("cache").toString();
    run("train", "--config", "fashion28", "--data", data.toString(), "--cache", cache, "--steps", "1", "--batch", "4",
        "--backend", "cpu", "--out", out.toString());
    StringWriter err = new StringWriter();
    int code = Main.commandLine().setErr(new PrintWriter(err)).setOut(new PrintWriter(new StringWriter()))
        .execute("train", "--config", "fashion28", "--data", data.toString(), "--cache", cache, "--steps", "1",
            "--batch", "4", "--backend", "cpu", "--out", out.toString());
    assertTrue(code != 0);
    assertTrue(err.toString().startsWith("mspx: ") && err.toString().contains("pass --resume"), err.toString());
  }

  /**
   * A model declared only in this test source set ({@code models.PocketFaces}) is listed, trained,
   * evaluated and sampled by its name, like a user's model in their own jar.
   */
  @Test
  void aModelOfOurOwnIsUsedByName() throws IOException {
    Path data = Files.createDirectories(dir.resolve("pocket"));
    Random random = new Random(2);
    for (String split : List.of("train", "test")) {
      byte[] images = new byte[8 * 64];
      for (int i = 0; i < images.length; i++) {
        images[i] = (byte) (random.nextInt(3) * 100);
      }
      ArrowImageFile.write(data.resolve("pocket-" + split + ".arrow"), 1, 8, 8, images, null, 0, "pocket " + split);
    }
    String listed = run("describe", "--list");
    assertTrue(listed.lines().anyMatch(l -> l.startsWith("pocket-faces") && l.contains("1x8x8") && l.contains("dev.mspx.samples.models.PocketFaces")), listed);
    assertTrue(listed.lines().anyMatch(l -> l.startsWith("fashion28 ")), listed);
    Path out = dir.resolve("pocket-run");
    String trained = run("train", "--config", "pocket-faces", "--data", data.resolve("pocket-train.arrow").toString(),
        "--cache", dir.resolve("cache").toString(), "--steps", "3", "--batch", "4", "--log-every", "1", "--backend", "cpu", "--out", out.toString());
    assertTrue(trained.contains("training pocket-faces") && trained.contains("step 3/3 (100%)"), trained);
    Path checkpoint = out.resolve("checkpoint.arrow");
    String eval = run("eval", "--checkpoint", checkpoint.toString(), "--data", data.resolve("pocket-train.arrow").toString(),
        "--cache", dir.resolve("cache").toString(), "--backend", "cpu");
    assertTrue(eval.strip().matches("(?s).*bits/dim: \\d+\\.\\d{4} \\(8 images\\)"), eval);
    Path png = dir.resolve("pocket.png");
    String sampled = run("sample", "--checkpoint", checkpoint.toString(), "--count", "4", "--backend", "cpu", "--out", png.toString());
    assertTrue(sampled.contains("4 images"), sampled);
    assertEquals(2 * (13 * 8 + 4) + 4, ImageIO.read(png.toFile()).getWidth());
  }
}
