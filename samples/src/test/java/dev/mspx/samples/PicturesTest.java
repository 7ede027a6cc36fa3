package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.core.Checkpoint;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pictures: the demo's pyramids and figures, surprise maps, crops and super-resolution, sampling
 * a crop-trained model at another size; on tiny models trained here for a step or two.
 */
class PicturesTest {

  @TempDir Path dir;

  @Test
  void demoDrawsPyramidsScoresTheShippedTestImagesAndTimesBothSamplers() throws IOException {
    Path data = Cli.fashionLike(dir, 10, 4);
    Path run = dir.resolve("labelled");
    Cli.ok("train", "--config", "fashion28-labelled", "--data", data.toString(), "--cache", dir.resolve("cache").toString(), "--batch", "5",
        "--steps", "1", "--backend", "cpu", "--out", run.toString());
    Path png = dir.resolve("demo/samples.png");
    String out = Cli.ok("demo", "--checkpoint", run.resolve("checkpoint.arrow").toString(), "--per-class", "1", "--limit", "20",
        "--raster-seconds", "0.2", "--backend", "cpu", "--out", png.toString());
    assertTrue(out.contains("10 samples with their pyramids 7×7 → 14×14 → 28×28"), out);
    assertTrue(out.matches("(?s).*test bits/dim: \\d+\\.\\d{4} on the first 20 of 10,000 Fashion-MNIST test images.*"), out);
    assertTrue(out.matches("(?s).*sampling one 28×28 image: multiscale \\d+\\.\\d\\d s \\(61 network evaluations\\); raster PixelCNN \\(12 gated layers, 64 filters\\).*784 evaluations.*faster.*"), out);
    BufferedImage picture = ImageIO.read(png.toFile());
    // A label column, one sample per row as three 84-pixel stages, ten rows of classes under a header.
    assertEquals(96 + 3 * 84 + 2 * 2 + 2 * 4, picture.getWidth());
    assertEquals(20 + 10 * (84 + 4) + 4, picture.getHeight());
  }

  @Test
  void heatmapPairsEachImageWithItsSurprise() throws IOException {
    Path data = Cli.fashionLike(dir, 8, 6);
    Path run = dir.resolve("run");
    Cli.ok("train", "--config", "fashion28", "--data", data.toString(), "--cache", dir.resolve("cache").toString(), "--batch", "4",
        "--steps", "1", "--backend", "cpu", "--out", run.toString());
    Path png = dir.resolve("surprise.png");
    String out = Cli.ok("eval", "--checkpoint", run.resolve("checkpoint.arrow").toString(), "--data", data.toString(), "--cache",
        dir.resolve("cache").toString(), "--heatmap", png.toString(), "--heatmap-count", "5", "--backend", "cpu");
    assertTrue(out.contains("wrote " + png + " (5 images beside their bits per pixel)"), out);
    BufferedImage picture = ImageIO.read(png.toFile());
    int side = 4 * 28, pair = 2 * side + 2;
    assertEquals(4 * (pair + 12) + 4, picture.getWidth(), "four pairs a row");
    assertEquals(2 * (side + 4) + 4 + 34, picture.getHeight(), "two rows and the scale bar");
    // The heat map is in colour (the ramp), the image beside it grey.
    int heat = picture.getRGB(4 + side + 2 + side / 2, 4 + side / 2);
    assertTrue(((heat >> 16) & 0xff) != (heat & 0xff), "a colour from the ramp: " + Integer.toHexString(heat));
  }

  @Test
  void aModelTrainedOnCropsUpscalesAndSamplesAtOtherSizes() throws IOException {
    Path data = Cli.photosLike(dir, 8, 8, 4);
    Path run = dir.resolve("crops");
    String trained = Cli.ok("train", "--config", "pocket-photos", "--crop", "8", "--data", data.toString(), "--cache",
        dir.resolve("cache").toString(), "--batch", "4", "--steps", "2", "--backend", "cpu", "--out", run.toString());
    assertTrue(trained.contains("training pocket-photos on 8×8 crops"), trained);
    Path checkpoint = run.resolve("checkpoint.arrow");
    assertEquals("8", Checkpoint.read(checkpoint).metadata().get(ModelFiles.CROP));
    String shown = Cli.ok("checkpoint", "show", checkpoint.toString());
    assertTrue(shown.contains("crops        8×8") && shown.contains("(matches the compiled model)"), shown);

    // Super-resolution: an 8×8 picture to 32×32 (two upscalings, both the crop plan's only one, 4 → 8).
    BufferedImage small = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < 64; i++) {
      small.setRGB(i % 8, i / 8, (i * 4) << 16 | (255 - i * 4) << 8 | 100);
    }
    Path in = dir.resolve("small.png");
    ImageIO.write(small, "png", in.toFile());
    Path big = dir.resolve("big.png"), compare = dir.resolve("compare.png");
    String up = Cli.ok("upscale", "--checkpoint", checkpoint.toString(), "--in", in.toString(), "--to", "32", "--out", big.toString(),
        "--compare", compare.toString(), "--backend", "cpu");
    assertTrue(up.contains("8×8 → 32×32 in") && up.contains("(2 upscalings, 24 network evaluations)"), up);
    BufferedImage result = ImageIO.read(big.toFile());
    assertEquals(32, result.getWidth());
    for (int y = 0; y < 8; y++) {
      for (int x = 0; x < 8; x++) {
        assertEquals(small.getRGB(x, y), result.getRGB(4 * x, 4 * y), "the input is group 1: every 4th pixel is the input's");
      }
    }
    assertEquals(3 * 32 + 4 * 6, ImageIO.read(compare.toFile()).getWidth());

    // Sampling at 32 (the declaration says 16; trained at 8).
    Path sampled = dir.resolve("at32.png");
    String s = Cli.ok("sample", "--checkpoint", checkpoint.toString(), "--size", "32", "--count", "2", "--scale", "1", "--backend", "cpu",
        "--out", sampled.toString());
    assertTrue(s.contains("2 images 32×32"), s);
    assertEquals(2 * (32 + 4) + 4, ImageIO.read(sampled.toFile()).getWidth());

    Cli bad = Cli.run("upscale", "--checkpoint", checkpoint.toString(), "--in", in.toString(), "--to", "24", "--out", dir.resolve("x.png").toString());
    assertEquals(Main.USAGE, bad.code(), bad.all());
    assertTrue(bad.err().contains("--to 24 for a 8×8 input"), bad.err());
  }

  @Test
  void stagesAreMatchedFromTheTop() {
    // A plan of 6 upscalings from a crop plan of 3: the top three are the crop plan's, the rest its lowest.
    assertEquals("up2.g4.stem.w", ModelFiles.sourceName("up5.g4.stem.w", 6, 3));
    assertEquals("up0.g2.head.logits.w", ModelFiles.sourceName("up3.g2.head.logits.w", 6, 3));
    assertEquals("up0.g3.block0.conv1.w", ModelFiles.sourceName("up1.g3.block0.conv1.w", 6, 3));
    assertEquals("base.layer0.vertical.w", ModelFiles.sourceName("base.layer0.vertical.w", 6, 3));
    // Super-resolution from 64 to 512 with base 64: three upscalings, the crop plan's three.
    assertEquals("up1.g2.stem.b", ModelFiles.sourceName("up1.g2.stem.b", 3, 3));
  }
}
