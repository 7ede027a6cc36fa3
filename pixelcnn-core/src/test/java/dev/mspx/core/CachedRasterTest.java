package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Cached raster sampling draws exactly what the full re-evaluation draws, and its cache ends equal to
 * a full evaluation of the image it drew. Oracle: the backend's full forward pass (reference: float64
 * accumulation; vector: the production kernels). Tolerance for logits: 1e-4 absolute + 1e-4 relative
 * (host float32 sums in another order, and Math.tanh/exp against the backends' own).
 */
class CachedRasterTest {

  static Stream<Arguments> cases() {
    Supplier<Backend> reference = CpuReferenceBackend::new, vector = () -> new CpuVectorBackend("cpu-vector", 2);
    ModelSpec widerRgb = ModelSpec.raster("WiderRgbRaster", 3, 16, 6, new GatedSpec(4, 12, 5));
    return Stream.of(
        Arguments.of(TinyModels.rasterGrey(), reference),
        Arguments.of(TinyModels.rasterRgb(), reference),
        Arguments.of(TinyModels.multiscaleGrey(), reference),
        Arguments.of(TinyModels.multiscaleRgb(), reference),
        Arguments.of(widerRgb, reference),
        Arguments.of(TinyModels.rasterGrey(), vector),
        Arguments.of(widerRgb, vector),
        Arguments.of(TinyModels.multiscaleRgb(), vector));
  }

  private static void labels(PlanRuntime rt, HostMemory host, ModelSpec spec, int n) {
    if (spec.conditioning().isEmpty()) {
      return;
    }
    try (HostTensor labels = host.allocate(Shape.of(n), DType.INT32, "labels")) {
      for (int b = 0; b < n; b++) {
        labels.setInt(b, b % spec.conditioning().get(0).width());
      }
      rt.setConditioning(0, labels);
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  void drawsTheSameImagesAsFullReevaluation(ModelSpec spec, Supplier<Backend> backends) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    int n = 3;
    try (Backend backend = backends.get();
        HostMemory host = HostMemory.create("test");
        Parameters params = Parameters.initialise(plan, backend, 3);
        PlanRuntime rt = new PlanRuntime(params, n, PlanRuntime.Mode.INFERENCE)) {
      TinyModels.randomise(params, 11, 0.6);
      labels(rt, host, spec, n);
      for (long seed = 1; seed <= 3; seed++) {
        byte[] full, cached;
        long fullEvaluations, cachedEvaluations;
        try (Sampler sampler = new Sampler(rt, Sampler.RasterMode.FULL); HostTensor img = sampler.sample(seed, host)) {
          full = img.toByteArray();
          fullEvaluations = sampler.evaluations();
        }
        try (Sampler sampler = new Sampler(rt, Sampler.RasterMode.CACHED); HostTensor img = sampler.sample(seed, host)) {
          cached = img.toByteArray();
          cachedEvaluations = sampler.evaluations();
          assertTrue(sampler.positionsComputed() > 0, "cached sampling computed nothing");
        }
        assertArrayEquals(full, cached, spec.name() + " seed " + seed + ": cached raster sampling drew other images");
        assertTrue(java.util.stream.IntStream.range(0, full.length).map(i -> full[i]).distinct().count() > 2,
            "the draws are nearly constant: the test would not see a wrong logit");
        int baseSubpixels = spec.channels() * plan.networks().get(0).resolution() * plan.networks().get(0).resolution();
        assertEquals(fullEvaluations - baseSubpixels + 1, cachedEvaluations, "backend evaluations of the cached sampler");
      }
    }
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("cases")
  void cacheEndsEqualToAFullEvaluationOfTheDrawnImage(ModelSpec spec, Supplier<Backend> backends) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    Network net = plan.networks().get(0);
    int n = 2, side = net.resolution(), area = side * side;
    try (Backend backend = backends.get();
        HostMemory host = HostMemory.create("test");
        Parameters params = Parameters.initialise(plan, backend, 5);
        PlanRuntime rt = new PlanRuntime(params, n, PlanRuntime.Mode.INFERENCE)) {
      TinyModels.randomise(params, 13, 0.6);
      labels(rt, host, spec, n);
      byte[] image;
      float[] cachedLogits;
      try (CachedRaster cached = new CachedRaster(rt, net)) {
        image = cached.sample(new SplittableRandom[] {new SplittableRandom(42)});
        cachedLogits = cached.logits();
      }
      try (HostTensor own = host.allocate(rt.tensor(net.own()).shape(), DType.UINT8, "own")) {
        own.copyFrom(image);
        backend.copyFromHost(own, rt.tensor(net.own()));
      }
      rt.run(net.forward());
      float[] z;
      try (HostTensor logits = backend.toHost(rt.tensor(net.logits()), host)) {
        z = logits.toFloatArray();
      }
      int k = z.length / (n * area);
      for (int b = 0; b < n; b++) {
        for (int c = 0; c < k; c++) {
          for (int q = 0; q < area; q++) {
            double expected = z[(b * k + c) * area + q], actual = cachedLogits[(b * area + q) * k + c];
            double err = Math.abs(actual - expected) / (1e-4 + 1e-4 * Math.abs(expected));
            assertTrue(err <= 1, spec.name() + ": logit " + c + " of image " + b + " at " + q + ": cached " + actual + ", full " + expected);
          }
        }
      }
    }
  }
}
