package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.HostMemory;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Model} against the oracle: its evaluation equals the float64 layer-by-layer model of the
 * tests ({@link ReferenceModel}) whatever the batch split, on both kernel sets (reference: 1e-9
 * relative, float32 against float64 sums; vector: 1e-5 relative); its draws are reproducible and
 * independent of how the images are batched only in the way it documents; a saved model scores the
 * same after loading; bad requests are refused with what to do.
 */
class ModelTest {

  @TempDir Path dir;

  private static final BackendModule REFERENCE = BackendModule.of("reference", CpuReferenceBackend::new);
  private static final BackendModule VECTOR = BackendModule.of("vector", () -> new CpuVectorBackend("cpu-vector", 2));

  private static double referenceBitsPerDim(Model model, int[][][][] img, int[] labels) {
    Map<String, float[]> values = new HashMap<>();
    for (ParameterSpec p : model.plan().parameters()) {
      values.put(p.name(), model.parameters().read(p.name()));
    }
    ModelSpec spec = model.spec();
    ReferenceModel ref = new ReferenceModel(spec, values::get);
    double nats = 0;
    for (int b = 0; b < img.length; b++) {
      nats += ref.nats(img[b], labels == null ? 0 : labels[b]);
    }
    return spec.bitsPerDim(nats, img.length);
  }

  @Test
  void evaluationEqualsTheFloat64ModelForEveryBatchSplitOnBothKernelSets() {
    ModelSpec spec = TinyModels.multiscaleRgb();
    int[][][][] img = TinyModels.images(spec, 7, 5);
    int[] labels = {0, 1, 2, 0, 1, 2, 1};
    ArrayImageSet set = new ArrayImageSet(img, labels, 3);
    for (BackendModule kernels : new BackendModule[] {REFERENCE, VECTOR}) {
      try (Model model = Model.create(PlanBuilder.build(spec), kernels, 3)) {
        TinyModels.randomise(model.parameters(), 9, 0.7);
        double want = referenceBitsPerDim(model, img, labels);
        double tolerance = kernels == REFERENCE ? 1e-6 : 1e-5;
        for (int batch : new int[] {1, 3, 7, 32}) {
          double[] sum = new double[1];
          int[] terms = new int[1];
          Model.Evaluation e = model.evaluate(set, 100, batch, (image, c, y, x, bits) -> {
            sum[0] += bits;
            terms[0]++;
          }, Progress.NONE);
          assertEquals(7, e.images());
          assertEquals(want, e.bitsPerDim(), tolerance * want, kernels.backendName() + ", batch " + batch);
          assertEquals(7 * spec.dimensions(), terms[0], "one term per sub-pixel");
          assertEquals(e.nats() / Math.log(2), sum[0], 1e-6 * sum[0], "the terms add up to the total");
        }
        Model.Evaluation firstThree = model.evaluate(set, 3, 2, null, Progress.NONE);
        assertEquals(3, firstThree.images());
      }
    }
  }

  @Test
  void samplesAreReproducibleFromTheSeedAndConditioned() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleRgb());
    try (Model model = Model.create(plan, REFERENCE, 3); HostMemory host = HostMemory.create("test")) {
      TinyModels.randomise(model.parameters(), 9, 0.7);
      byte[] a, b, c;
      try (Model.Samples s = model.sample(5, 11, Sampler.RasterMode.CACHED, Conditions.classLabels(0, 1, 2, 0, 1), 2, host, Progress.NONE)) {
        a = s.images().toByteArray();
      }
      try (Model.Samples s = model.sample(5, 11, Sampler.RasterMode.FULL, Conditions.classLabels(0, 1, 2, 0, 1), 2, host, Progress.NONE)) {
        b = s.images().toByteArray();
        assertEquals(3 * model.plan().samplingEvaluations(), s.evaluations(), "three batches, each the plan's evaluation count");
      }
      try (Model.Samples s = model.sample(5, 12, Sampler.RasterMode.CACHED, Conditions.classLabels(0, 1, 2, 0, 1), 2, host, Progress.NONE)) {
        c = s.images().toByteArray();
      }
      assertArrayEquals(a, b, "cached and full raster sampling draw the same images");
      assertFalse(java.util.Arrays.equals(a, c), "another seed draws other images");
      assertEquals(5 * 3 * 16, a.length);
    }
  }

  /** Image i depends on seed + i alone: not on the batch split, nor on the images drawn with it. */
  @Test
  void eachImageIsReproducibleFromItsOwnSeed() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    try (Model model = Model.create(plan, REFERENCE, 3); HostMemory host = HostMemory.create("test")) {
      TinyModels.randomise(model.parameters(), 9, 0.7);
      int imageBytes = (int) model.spec().dimensions();
      byte[] whole, split;
      try (Model.Samples s = model.sample(5, 40, Sampler.RasterMode.CACHED, Conditions.none(), 5, host, Progress.NONE)) {
        whole = s.images().toByteArray();
      }
      try (Model.Samples s = model.sample(5, 40, Sampler.RasterMode.FULL, Conditions.none(), 2, host, Progress.NONE)) {
        split = s.images().toByteArray();
      }
      assertArrayEquals(whole, split, "batches of 5 and of 2 draw the same five images");
      for (int i = 0; i < 5; i++) {
        try (Model.Samples one = model.sample(1, 40 + i, Sampler.RasterMode.CACHED, Conditions.none(), 1, host, Progress.NONE)) {
          assertArrayEquals(java.util.Arrays.copyOfRange(whole, i * imageBytes, (i + 1) * imageBytes), one.images().toByteArray(),
              "image " + i + " of seed 40 is image 0 of seed " + (40 + i));
        }
      }
      assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(whole, 0, imageBytes),
          java.util.Arrays.copyOfRange(whole, imageBytes, 2 * imageBytes)), "images of different seeds differ");
    }
  }

  /** The per-image terms are evaluate's: summed in order they give its total to the last bit. */
  @Test
  void imageNatsAddUpToEvaluate() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    try (Model model = Model.create(plan, REFERENCE, 3); ArrayImageSet set = new ArrayImageSet(TinyModels.images(plan.spec(), 7, 2), null, 0)) {
      TinyModels.randomise(model.parameters(), 9, 0.7);
      Model.Evaluation e = model.evaluate(set, 7, 3, null, Progress.NONE);
      double[] first = model.imageNats(set, 0, 3, 3), rest = model.imageNats(set, 3, 7, 3);
      double sum = 0;
      for (double v : first) {
        sum += v;
      }
      for (double v : rest) {
        sum += v;
      }
      assertEquals(e.nats(), sum, 0.0, "two ranges that start on batch boundaries add up to evaluate's total");
      assertMessage("not a non-empty range", () -> model.imageNats(set, 5, 9, 3));
    }
  }

  @Test
  void aSavedModelLoadsAndScoresTheSame() {
    ModelSpec spec = TinyModels.multiscaleGrey();
    ExecutionPlan plan = PlanBuilder.build(spec);
    int[][][][] img = TinyModels.images(spec, 4, 2);
    ArrayImageSet set = new ArrayImageSet(img, null, 0);
    Path file = dir.resolve("tiny.arrow");
    double before;
    try (Model model = Model.create(plan, REFERENCE, 4)) {
      TinyModels.randomise(model.parameters(), 1, 0.5);
      before = model.evaluate(set).bitsPerDim();
      model.save(file);
    }
    try (Model loaded = Model.load(file, plan, VECTOR)) {
      assertEquals("tiny-multiscale-grey", loaded.name());
      assertFalse(loaded.origin().orElseThrow().isTraining());
      assertEquals(before, loaded.evaluate(set).bitsPerDim(), 1e-5 * before);
      CheckpointException e = assertThrows(CheckpointException.class,
          () -> loaded.resume(set, new Trainer.Settings(2, 0, dev.mspx.api.AdamOp.defaults(), 0), file));
      assertTrue(e.getMessage().contains("inference checkpoint"), e.getMessage());
    }
  }

  @Test
  void aCheckpointOfAModelNotOnTheClassPathNamesTheModel() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    Path file = dir.resolve("orphan.arrow");
    try (Model model = Model.create(plan, REFERENCE, 4)) {
      model.save(file);
    }
    CheckpointException e = assertThrows(CheckpointException.class, () -> Model.load(file, REFERENCE));
    assertTrue(e.getMessage().contains("made for model 'tiny-multiscale-grey'") && e.getMessage().contains("not on the class path"),
        e.getMessage());
    assertTrue(Files.exists(file));
  }

  @Test
  void badRequestsAreRefusedWithWhatToDo() {
    ModelSpec spec = TinyModels.multiscaleGrey();
    ArrayImageSet set = new ArrayImageSet(TinyModels.images(spec, 2, 2), null, 0);
    try (Model model = Model.create(PlanBuilder.build(spec), REFERENCE, 4); HostMemory host = HostMemory.create("test")) {
      assertMessage("must be at least 1, got 0", () -> model.sample(0, 1, Conditions.none(), host));
      assertMessage("unconditional: it takes no class label", () -> model.sample(2, 1, Conditions.classLabels(3), host));
      assertMessage("must be at least 1, got 0", () -> model.evaluate(set, 0, 4, null, Progress.NONE));
      assertMessage("must be at least 1, got -5", () -> model.evaluate(set, -5, 4, null, Progress.NONE));
      ArrayImageSet wrong = new ArrayImageSet(TinyModels.images(TinyModels.rasterGrey(), 2, 2), null, 0);
      assertMessage("but model tiny-multiscale-grey scores 1×8×8", () -> model.evaluate(wrong));
    }
    try (Model labelled = Model.create(PlanBuilder.build(TinyModels.multiscaleRgb()), REFERENCE, 4); HostMemory host = HostMemory.create("test")) {
      assertMessage("is class-conditional (3 classes): give a class label", () -> labelled.sample(2, 1, Conditions.none(), host));
      assertMessage("class 3 is out of range", () -> labelled.sample(2, 1, Conditions.classLabels(3), host));
      assertMessage("3 class labels for 2 images", () -> labelled.sample(2, 1, Conditions.classLabels(0, 1, 2), host));
    }
  }

  private static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(part), e.getMessage());
  }
}
