package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.AdamOp;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.api.Backend;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {

  @TempDir Path dir;

  static final ModelSpec SPEC = TinyModels.multiscaleRgb();

  static ArrayImageSet data() {
    int[][][][] img = TinyModels.images(SPEC, 10, 5);
    int[] labels = new int[10];
    for (int i = 0; i < 10; i++) {
      labels[i] = i % 3;
    }
    return new ArrayImageSet(img, labels, 3);
  }

  static Trainer.Settings settings() {
    return new Trainer.Settings(3, 42, AdamOp.of(3e-3, 0.9, 0.999, 1e-8), 1.0);
  }

  /** The backends a resumed run must reproduce exactly: the reference and the vectorised kernels. */
  static Stream<Supplier<Backend>> backends() {
    return Stream.of(CpuReferenceBackend::new, CpuVectorBackend::new);
  }

  private double[] run(int steps, Path saveAfter, int saveAt) {
    return run(CpuReferenceBackend::new, steps, saveAfter, saveAt);
  }

  /** Losses of {@code steps} steps from a fresh model (parameters from seed 9). */
  private double[] run(Supplier<Backend> backends, int steps, Path saveAfter, int saveAt) {
    ExecutionPlan plan = PlanBuilder.build(SPEC);
    try (Backend backend = backends.get();
        ArrayImageSet data = data();
        Parameters params = Parameters.initialise(plan, backend, 9);
        Trainer trainer = new Trainer(params, data, settings(), "tiny")) {
      double[] losses = new double[steps];
      for (int s = 0; s < steps; s++) {
        losses[s] = trainer.step();
        if (saveAfter != null && s + 1 == saveAt) {
          trainer.checkpoint().write(saveAfter);
        }
      }
      return losses;
    }
  }

  /**
   * A run stopped after 4 steps (across an epoch boundary) and resumed in a new backend takes the same
   * next steps, bit for bit.
   */
  @ParameterizedTest
  @MethodSource("backends")
  void resumeIsBitIdentical(Supplier<Backend> backends) {
    Path file = dir.resolve("run/checkpoint.arrow");
    double[] straight = run(backends, 8, file, 4);
    ExecutionPlan plan = PlanBuilder.build(SPEC);
    double[] resumed = new double[4];
    try (Backend backend = backends.get();
        ArrayImageSet data = data();
        Parameters params = Parameters.initialise(plan, backend, 1234); // different: the checkpoint overwrites
        Trainer trainer = new Trainer(params, data, settings(), "tiny")) {
      trainer.resume(Checkpoint.read(file), file);
      assertEquals(4, trainer.steps());
      assertEquals(1, trainer.epoch(), "3 batches per epoch: step 4 is in the second epoch");
      for (int s = 0; s < 4; s++) {
        resumed[s] = trainer.step();
      }
    }
    assertArrayEquals(Arrays.copyOfRange(straight, 4, 8), resumed, 0.0, "losses after resume");
    assertTrue(straight[7] < straight[0], "it trains: " + Arrays.toString(straight));
  }

  /**
   * Two replicas of batch 3, their gradients summed in rank order between {@code computeGradients} and
   * {@code applyUpdate}, take the steps of one process on the global batch of 6: the same data order, a
   * loss and gradients equal up to float rounding (the replicas' kernels add 3 images where the one
   * process adds 6; the reference backend rounds each sum to float once), and both replicas hold the
   * same parameters bit for bit after every step.
   */
  @Test
  void replicasTakeTheGlobalBatchSteps() {
    ExecutionPlan plan = PlanBuilder.build(SPEC);
    Trainer.Settings global = new Trainer.Settings(6, 42, AdamOp.of(3e-3, 0.9, 0.999, 1e-8), 0);
    try (CpuReferenceBackend b0 = new CpuReferenceBackend(); CpuReferenceBackend b1 = new CpuReferenceBackend();
        CpuReferenceBackend b2 = new CpuReferenceBackend(); ArrayImageSet data = data();
        Parameters p0 = Parameters.initialise(plan, b0, 9); Parameters p1 = Parameters.initialise(plan, b1, 9);
        Parameters one = Parameters.initialise(plan, b2, 9);
        Trainer r0 = new Trainer(p0, data, global, "tiny", new Trainer.Shard(0, 2), Trainer.GradientExchange.NONE);
        Trainer r1 = new Trainer(p1, data, global, "tiny", new Trainer.Shard(1, 2), Trainer.GradientExchange.NONE);
        Trainer single = new Trainer(one, data, global, "tiny")) {
      for (int step = 0; step < 4; step++) {
        double nats = r0.computeGradients() + r1.computeGradients();
        float[][] g0 = read(r0, b0), g1 = read(r1, b1);
        double oneNats = single.computeGradients();
        float[][] want = read(single, b2);
        for (int t = 0; t < g0.length; t++) {
          for (int i = 0; i < g0[t].length; i++) {
            g0[t][i] += g1[t][i];
            assertEquals(want[t][i], g0[t][i], 1e-6 + 1e-5 * Math.abs(want[t][i]), "step " + step + " tensor " + t + " element " + i);
          }
        }
        assertEquals(oneNats, nats, 1e-5 * oneNats, "the replicas' nats add up to the global batch's");
        write(r0, b0, g0);
        write(r1, b1, g0);
        double loss = r0.applyUpdate(nats);
        assertEquals(loss, r1.applyUpdate(nats), 0.0);
        assertEquals(single.applyUpdate(oneNats), loss, 1e-5 * loss);
        for (var p : plan.parameters()) {
          assertArrayEquals(p0.read(p.name()), p1.read(p.name()), p.name() + " after step " + (step + 1));
        }
      }
      assertEquals(4, r0.epoch(), "10 images, global batch 6: one batch per epoch, a new permutation each step");
      assertThrows(IllegalArgumentException.class, () -> new Trainer(p0, data, global, "tiny", new Trainer.Shard(0, 4), Trainer.GradientExchange.NONE));
    }
  }

  private static float[][] read(Trainer t, Backend b) {
    var tensors = t.gradientTensors();
    float[][] out = new float[tensors.size()][];
    try (dev.mspx.api.HostMemory host = dev.mspx.api.HostMemory.create("test")) {
      for (int i = 0; i < out.length; i++) {
        try (var h = b.toHost(tensors.get(i), host)) {
          out[i] = h.toFloatArray();
        }
      }
    }
    return out;
  }

  private static void write(Trainer t, Backend b, float[][] values) {
    var tensors = t.gradientTensors();
    try (dev.mspx.api.HostMemory host = dev.mspx.api.HostMemory.create("test")) {
      for (int i = 0; i < values.length; i++) {
        try (var h = host.allocate(tensors.get(i).shape(), tensors.get(i).dtype(), "g")) {
          h.copyFrom(values[i]);
          b.copyFromHost(h, tensors.get(i));
        }
      }
    }
  }

  @Test
  void truncatedCheckpointIsRefused() throws IOException {
    Path file = dir.resolve("checkpoint.arrow");
    run(1, file, 1);
    byte[] whole = Files.readAllBytes(file);
    for (int cut : new int[] {whole.length - 3, whole.length / 2, 7}) {
      Path broken = dir.resolve("cut" + cut + ".arrow");
      Files.write(broken, Arrays.copyOf(whole, cut));
      CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(broken));
      assertTrue(e.getMessage().contains(broken.toString()) && e.getMessage().contains(cut + " bytes"), e.getMessage());
      assertTrue(e.getMessage().contains("not a complete Arrow IPC checkpoint"), e.getMessage());
    }
    assertThrows(CheckpointException.class, () -> Checkpoint.read(dir.resolve("missing.arrow")));
  }

  @Test
  void checkpointOfAnotherModelIsRefused() {
    Path file = dir.resolve("checkpoint.arrow");
    run(1, file, 1);
    ExecutionPlan other = PlanBuilder.build(TinyModels.rasterRgb());
    CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.read(file).checkFits(other, file));
    assertTrue(e.getMessage().contains("was made for model TinyMultiscaleRgb"), e.getMessage());
    assertTrue(e.getMessage().contains("TinyRasterRgb"), e.getMessage());
  }

  @Test
  void writingLeavesNoTemporaryFiles() throws IOException {
    Path file = dir.resolve("out/checkpoint.arrow");
    run(2, file, 1);
    run(2, file, 2); // overwrite in place
    try (var files = Files.list(file.getParent())) {
      assertEquals(java.util.List.of(file), files.toList());
    }
  }

  @Test
  void nonFiniteLossStopsWithTheStep() {
    ExecutionPlan plan = PlanBuilder.build(SPEC);
    try (CpuReferenceBackend backend = new CpuReferenceBackend();
        ArrayImageSet data = data();
        Parameters params = Parameters.initialise(plan, backend, 9);
        Trainer trainer = new Trainer(params, data, settings(), "tiny")) {
      trainer.step();
      float[] w = params.read("base.out.logits.bias");
      w[0] = Float.NaN;
      params.write("base.out.logits.bias", w);
      TrainingDivergedException e = assertThrows(TrainingDivergedException.class, trainer::step);
      assertTrue(e.getMessage().startsWith("step 2: the loss is NaN"), e.getMessage());
    }
  }
}
