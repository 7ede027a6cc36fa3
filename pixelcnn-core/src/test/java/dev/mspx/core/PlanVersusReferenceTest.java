package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A plan run on the reference backend equals the model written out layer by layer in the test
 * ({@link ReferenceModel}): the loss to 1e-5 relative (float32 against float64), and every
 * parameter's gradient, sampled, against central finite differences of the reference's loss (1e-3
 * relative + 2e-5 absolute: float32 accumulation against a float64 difference quotient with h = 1e-4, checked against h = 2.5e-5 to skip kinks).
 */
class PlanVersusReferenceTest {

  static Stream<ModelSpec> specs() {
    return Stream.of(TinyModels.rasterRgb(), TinyModels.multiscaleRgb(), TinyModels.multiscaleGrey(), TinyModels.rasterGrey());
  }

  @ParameterizedTest
  @MethodSource("specs")
  void lossAndGradientsMatchTheLayerByLayerModel(ModelSpec spec) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    int n = 2;
    int[][][][] img = TinyModels.images(spec, n, 11);
    int[] labels = {2, 0};
    try (CpuReferenceBackend backend = new CpuReferenceBackend();
        HostMemory host = HostMemory.create("test")) {
      try (Parameters params = Parameters.initialise(plan, backend, 3);
          PlanRuntime rt = new PlanRuntime(params, n);
          HostTensor images = TinyModels.toTensor(host, img);
          HostTensor lab = TinyModels.labels(host, labels)) {
        TinyModels.randomise(params, 5, 0.5);
        Map<String, float[]> values = new HashMap<>();
        for (ParameterSpec p : plan.parameters()) {
          values.put(p.name(), params.read(p.name()));
        }
        rt.setImages(images);
        if (!plan.conditioning().isEmpty()) {
          rt.setConditioning(0, lab);
        }
        rt.gradients();
        double planBits = rt.bitsPerDim();
        double refBits = bitsPerDim(spec, values, img, labels);
        assertEquals(refBits, planBits, 1e-5 * Math.abs(refBits), spec.name() + " bits/dim");

        SplittableRandom pick = new SplittableRandom(17);
        int checked = 0, kinks = 0;
        for (ParameterSpec p : plan.parameters()) {
          float[] grad;
          try (HostTensor g = backend.toHost(rt.gradient(p.name()), host)) {
            grad = g.toFloatArray();
          }
          float[] theta = values.get(p.name());
          for (int trial = 0, tries = 0; trial < 2 && tries < 12; tries++) {
            int i = pick.nextInt(theta.length);
            double fd = difference(spec, values, img, labels, theta, i, 1e-4f);
            double fine = difference(spec, values, img, labels, theta, i, 2.5e-5f);
            if (Math.abs(fd - fine) > 1e-3 * Math.abs(fine) + 2e-5) {
              kinks++; // a ReLU switches inside [θ-h, θ+h]: the quotient is not a derivative there
              continue;
            }
            assertTrue(Math.abs(grad[i] - fine) <= 1e-3 * Math.abs(fine) + 2e-5,
                spec.name() + " d/d " + p.name() + "[" + i + "]: plan " + grad[i] + ", finite difference " + fine);
            checked++;
            trial++;
          }
        }
        assertTrue(kinks <= plan.parameters().size() / 4, kinks + " sampled entries sat on a kink");
        assertTrue(checked >= 2 * plan.parameters().size());
      }
      assertEquals(0, backend.outstandingBytes());
    }
  }

  /** Central difference of the reference loss in parameter entry i, with the step as stored in float. */
  private static double difference(ModelSpec spec, Map<String, float[]> values, int[][][][] img, int[] labels,
      float[] theta, int i, float h) {
    float saved = theta[i];
    float up = saved + h, down = saved - h;
    theta[i] = up;
    double lossUp = bitsPerDim(spec, values, img, labels);
    theta[i] = down;
    double lossDown = bitsPerDim(spec, values, img, labels);
    theta[i] = saved;
    return (lossUp - lossDown) / ((double) up - (double) down);
  }

  private static double bitsPerDim(ModelSpec spec, Map<String, float[]> values, int[][][][] img, int[] labels) {
    ReferenceModel ref = new ReferenceModel(spec, values::get);
    double nats = 0;
    for (int b = 0; b < img.length; b++) {
      nats += ref.nats(img[b], labels[b]);
    }
    return nats / (img.length * spec.channels() * spec.size() * spec.size() * Math.log(2));
  }

  @SuppressWarnings("unused")
  private static List<String> names(ExecutionPlan plan) {
    return plan.parameters().stream().map(ParameterSpec::name).toList();
  }
}
