package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A sampler draws the same bytes on a training runtime (every activation kept until its gradient) and
 * on an inference runtime (the small arena, memory reused as soon as a value is dead), for grey and RGB,
 * multiscale and raster, on both CPU kernel sets. The RGB multiscale models are the ones that matter:
 * their group heads run once per colour after one trunk pass, so the trunk's features must stay live
 * through every head pass. That the draws follow the scored distribution is {@link LikelihoodTest}'s.
 */
class SamplingModesTest {

  static Stream<Arguments> cases() {
    Supplier<Backend> reference = CpuReferenceBackend::new, vector = () -> new CpuVectorBackend("cpu-vector", 2);
    ModelSpec rgb8 = ModelSpec.multiscale("Rgb8", 3, 16, 8, 2, new GatedSpec(2, 6, 3), UpscaleSpec.typeA(9, 1));
    ModelSpec rgb16 = ModelSpec.multiscale("Rgb16", 3, 256, 16, 4, new GatedSpec(2, 12, 5), UpscaleSpec.typeA(12, 2));
    Stream.Builder<Arguments> cases = Stream.builder();
    for (Supplier<Backend> kernels : java.util.List.of(reference, vector)) {
      for (ModelSpec spec : java.util.List.of(TinyModels.multiscaleRgb(), rgb8, rgb16, TinyModels.multiscaleGrey(), TinyModels.rasterRgb(), TinyModels.typeBRgb())) {
        cases.add(Arguments.of(spec, kernels == reference ? "reference" : "vector", kernels));
      }
    }
    return cases.build();
  }

  @ParameterizedTest(name = "{0} on the {1} kernels")
  @MethodSource("cases")
  void inferenceAndTrainingRuntimesDrawTheSameImages(ModelSpec spec, String kernelName, Supplier<Backend> kernels) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    int n = 3;
    try (Backend backend = kernels.get();
        HostMemory host = HostMemory.create("test");
        Parameters params = Parameters.initialise(plan, backend, 5)) {
      TinyModels.randomise(params, 17, 0.8);
      for (Sampler.RasterMode raster : Sampler.RasterMode.values()) {
        for (long seed = 1; seed <= 2; seed++) {
          byte[] training = draw(params, n, PlanRuntime.Mode.TRAINING, raster, seed, host);
          byte[] inference = draw(params, n, PlanRuntime.Mode.INFERENCE, raster, seed, host);
          int differ = 0;
          for (int i = 0; i < training.length; i++) {
            differ += training[i] != inference[i] ? 1 : 0;
          }
          assertTrue(differ == 0, spec.name() + ", raster part " + raster + ", seed " + seed + ": " + differ + " of "
              + training.length + " sub-pixels differ between the training and the inference runtime");
          assertArrayEquals(training, inference);
        }
      }
    }
  }

  private static byte[] draw(Parameters params, int n, PlanRuntime.Mode mode, Sampler.RasterMode raster, long seed, HostMemory host) {
    ModelSpec spec = params.plan().spec();
    try (PlanRuntime rt = new PlanRuntime(params, n, mode); Sampler sampler = new Sampler(rt, raster)) {
      if (!spec.conditioning().isEmpty()) {
        try (HostTensor labels = host.allocate(Shape.of(n), DType.INT32, "labels")) {
          for (int b = 0; b < n; b++) {
            labels.setInt(b, b % spec.conditioning().get(0).width());
          }
          rt.setConditioning(0, labels);
        }
      }
      try (HostTensor images = sampler.sample(seed, host)) {
        return images.toByteArray();
      }
    }
  }
}
