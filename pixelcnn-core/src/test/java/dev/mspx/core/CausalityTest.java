package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Causality of every generated net on random weights (DESIGN.md section 5): for every step q of the
 * generation order, changing every sub-pixel generated at step q or later leaves the logits of every
 * sub-pixel generated at step q or earlier bit-identical. The reference backend computes a perturbed
 * input with the same kernels and layout as the original, so any dependence shows as a changed bit.
 * The test is not vacuous: it also counts the steps whose later predictions did move.
 */
class CausalityTest {

  static Stream<ModelSpec> specs() {
    return Stream.of(TinyModels.rasterRgb(), TinyModels.multiscaleRgb(), TinyModels.multiscaleGrey(), TinyModels.rasterGrey(),
        TinyModels.typeBGrey(), TinyModels.typeBRgb());
  }

  @ParameterizedTest
  @MethodSource("specs")
  void perturbingTheFutureLeavesThePastBitIdentical(ModelSpec spec) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    GenerationOrder order = GenerationOrder.of(spec);
    int n = 2, c = spec.channels(), h = spec.size(), levels = spec.levels();
    int[][][][] img = TinyModels.images(spec, n, 23);
    SplittableRandom random = new SplittableRandom(29);
    try (CpuReferenceBackend backend = new CpuReferenceBackend();
        HostMemory host = HostMemory.create("test");
        Parameters params = Parameters.initialise(plan, backend, 1);
        PlanRuntime rt = new PlanRuntime(params, n);
        HostTensor labels = TinyModels.labels(host, 1, 2)) {
      TinyModels.randomise(params, 31, 1.0);
      if (!plan.conditioning().isEmpty()) {
        rt.setConditioning(0, labels);
      }
      float[] reference = logits(rt, host, img, order);
      int moved = 0;
      for (int q = 0; q < order.stepCount(); q++) {
        int[][][][] perturbed = new int[n][c][h][h];
        for (int b = 0; b < n; b++) {
          for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
              for (int x = 0; x < h; x++) {
                int v = img[b][ch][y][x];
                perturbed[b][ch][y][x] = order.step(ch, y, x) >= q ? (v + 1 + random.nextInt(levels - 1)) % levels : v;
              }
            }
          }
        }
        float[] got = logits(rt, host, perturbed, order);
        boolean later = false;
        for (int b = 0; b < n; b++) {
          for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
              for (int x = 0; x < h; x++) {
                for (int l = 0; l < levels; l++) {
                  int i = ((b * c * levels + ch * levels + l) * h + y) * h + x;
                  if (order.step(ch, y, x) <= q) {
                    assertEquals(Float.floatToRawIntBits(reference[i]), Float.floatToRawIntBits(got[i]),
                        spec.name() + ": the logits of sub-pixel (c=" + ch + ", y=" + y + ", x=" + x + ") at step "
                            + order.step(ch, y, x) + " moved when steps >= " + q + " were perturbed");
                  } else if (reference[i] != got[i]) {
                    later = true;
                  }
                }
              }
            }
          }
        }
        moved += later ? 1 : 0;
      }
      assertTrue(moved >= order.stepCount() / 2,
          spec.name() + ": only " + moved + " of " + order.stepCount() + " steps moved any later prediction");
    }
  }

  private static float[] logits(PlanRuntime rt, HostMemory host, int[][][][] img, GenerationOrder order) {
    try (HostTensor t = TinyModels.toTensor(host, img)) {
      rt.setImages(t);
    }
    return order.fullLogits(rt);
  }
}
