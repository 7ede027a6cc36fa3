package dev.mspx.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.HostMemory;
import dev.mspx.core.Conditions;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import dev.mspx.core.data.ArrowImageFile;
import dev.mspx.core.data.ImageSet;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Evaluation at scale and sampling fleets in local mode, against one process. */
class FleetTest {

  @TempDir static Path dir;
  static JavaSparkContext sc;
  static Path data;
  static Path checkpoint;
  static Path labelled;

  @BeforeAll
  static void start() {
    sc = LocalSpark.start("FleetTest");
    data = LocalSpark.data(dir, 8, 45);
    checkpoint = dir.resolve("tiny.arrow");
    try (Model model = Model.create("spark-tiny28", DistributedTrainingTest.cpu("make"), 3)) {
      randomise(model, 5);
      model.save(checkpoint);
    }
    labelled = dir.resolve("labelled.arrow");
    try (Model model = Model.create("spark-tiny-labelled", DistributedTrainingTest.cpu("make"), 3)) {
      randomise(model, 6);
      model.save(labelled);
    }
  }

  /** Parameters far from the initial ones, so that the images and their likelihoods are varied. */
  static void randomise(Model model, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    for (var p : model.plan().parameters()) {
      float[] v = model.parameters().read(p.name());
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) ((r.nextDouble() * 2 - 1) * 0.5);
      }
      model.parameters().write(p.name(), v);
    }
  }

  @AfterAll
  static void stop() {
    sc.stop();
  }

  /**
   * 45 test images in 4 tasks of batch 8 against {@code Model.evaluate} in one process: the same nats
   * to the last bit (every task scores exactly one process's batches, and the driver adds the per-image
   * terms in image order), so the same printed bits/dim.
   */
  @Test
  void evaluationEqualsOneProcessToTheLastBit() {
    Path test = dir.resolve("tiny-test.arrow");
    Model.Evaluation spread = new DistributedEvaluation(sc).evaluate(checkpoint, test.toString(), false, test, Integer.MAX_VALUE, 8, 4, "cpu", 1);
    Model.Evaluation one;
    try (Model model = Model.load(checkpoint, DistributedTrainingTest.cpu("one")); ImageSet set = ArrowImageFile.open(test)) {
      one = model.evaluate(set, set.size(), 8, null, Progress.NONE);
    }
    assertEquals(45, spread.images());
    assertEquals(one.nats(), spread.nats(), 0.0, "nats summed in the same order");
    assertEquals(String.format(Locale.ROOT, "%.4f", one.bitsPerDim()), String.format(Locale.ROOT, "%.4f", spread.bitsPerDim()));
    Model.Evaluation limited = new DistributedEvaluation(sc).evaluate(checkpoint, test.toString(), false, test, 20, 8, 3, "cpu", 1);
    try (Model model = Model.load(checkpoint, DistributedTrainingTest.cpu("one")); ImageSet set = ArrowImageFile.open(test)) {
      assertEquals(model.evaluate(set, 20, 8, null, Progress.NONE).nats(), limited.nats(), 0.0, "--limit 20");
    }
  }

  /**
   * 10 images in 3 tasks, written as one Arrow file, against one process drawing 10 images from the
   * same seed in one batch: the same bytes; and the PNG files decode to the same pixels, named by seed.
   */
  @Test
  void aFleetDrawsTheImagesOfOneProcess() throws Exception {
    Path arrow = dir.resolve("fleet/samples.arrow");
    assertEquals(10, new SamplingFleet(sc).sample(checkpoint, 10, 100, null, 3, 2, Sampler.RasterMode.CACHED, SamplingFleet.Format.ARROW, arrow, "cpu", 1));
    byte[] one;
    try (Model model = Model.load(checkpoint, DistributedTrainingTest.cpu("one")); HostMemory host = HostMemory.create("test");
        Model.Samples s = model.sample(10, 100, Sampler.RasterMode.FULL, Conditions.none(), 10, host, Progress.NONE)) {
      one = s.images().toByteArray();
    }
    try (ImageSet set = ArrowImageFile.open(arrow); HostMemory host = HostMemory.create("test"); var all = set.view(0, 10, host)) {
      assertArrayEquals(one, all.toByteArray(), "the fleet's Arrow file holds one process's images");
      assertTrue(set.source().contains("seeds 100..109"), set.source());
    }
    Path pngs = dir.resolve("fleet/png");
    assertEquals(10, new SamplingFleet(sc).sample(checkpoint, 10, 100, null, 4, 0, Sampler.RasterMode.CACHED, SamplingFleet.Format.PNG, pngs, "cpu", 1));
    for (int i = 0; i < 10; i++) {
      BufferedImage image = ImageIO.read(pngs.resolve("sample-" + (100 + i) + ".png").toFile());
      assertEquals(28, image.getWidth());
      for (int y = 0; y < 28; y++) {
        for (int x = 0; x < 28; x++) {
          assertEquals(Byte.toUnsignedInt(one[(i * 28 + y) * 28 + x]), image.getRaster().getSample(x, y, 0), "image " + i + " at " + y + "," + x);
        }
      }
    }
    try (var files = Files.list(pngs)) {
      assertEquals(10, files.count(), "ten PNG files and nothing else");
    }
  }

  /** A class-conditional model: image i of class i mod 3, the labels written beside the images. */
  @Test
  void aConditionalFleetDrawsEachImageOfItsClass() {
    Path arrow = dir.resolve("labelled/samples.arrow");
    new SamplingFleet(sc).sample(labelled, 7, 5, null, 2, 0, Sampler.RasterMode.CACHED, SamplingFleet.Format.ARROW, arrow, "cpu", 1);
    byte[] one;
    try (Model model = Model.load(labelled, DistributedTrainingTest.cpu("one")); HostMemory host = HostMemory.create("test");
        Model.Samples s = model.sample(7, 5, Sampler.RasterMode.CACHED, Conditions.classLabels(0, 1, 2, 0, 1, 2, 0), 3, host, Progress.NONE)) {
      one = s.images().toByteArray();
    }
    try (ImageSet set = ArrowImageFile.open(arrow); HostMemory host = HostMemory.create("test"); var all = set.view(0, 7, host)) {
      assertArrayEquals(one, all.toByteArray());
      for (int i = 0; i < 7; i++) {
        assertEquals(i % 3, set.label(i));
      }
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new SamplingFleet(sc).sample(checkpoint, 2, 0, 1, 1, 0, Sampler.RasterMode.CACHED, SamplingFleet.Format.PNG, dir.resolve("x"), "cpu", 1));
    assertTrue(e.getMessage().contains("is unconditional; drop --label"), e.getMessage());
  }
}
