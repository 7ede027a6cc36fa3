package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.AdamOp;
import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The model is a distribution, the sampler draws from it, and training can fit data. */
class LikelihoodTest {

  static Stream<ModelSpec> binary4x4() {
    return Stream.of(
        ModelSpec.raster("BinaryRaster", 1, 2, 4, new GatedSpec(3, 8, 3)),
        ModelSpec.multiscale("BinaryMultiscale", 1, 2, 4, 2, new GatedSpec(2, 8, 3), UpscaleSpec.typeA(8, 1)),
        ModelSpec.multiscale("BinaryMultiscaleBase1", 1, 2, 4, 1, new GatedSpec(2, 8, 3), UpscaleSpec.typeA(8, 1)),
        typeB());
  }

  /** Type-B upscaling 2 → 4 with 2×2 patches: each group is one patch, its four pixels in raster order. */
  static ModelSpec typeB() {
    return ModelSpec.multiscale("BinaryTypeB", 1, 2, 4, 2, new GatedSpec(2, 8, 3), new UpscaleSpec(8, 1, 2, dev.mspx.api.model.UpscaleType.B, 2));
  }

  /** With L = 2 and 4×4 images, the probabilities of all 65,536 images sum to 1 within 1e-4. */
  @ParameterizedTest
  @MethodSource("binary4x4")
  void probabilitiesOfAllImagesSumToOne(ModelSpec spec) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    int total = 1 << 16, batch = 8192;
    double max = Double.NEGATIVE_INFINITY;
    double[] logp = new double[total];
    try (CpuReferenceBackend backend = new CpuReferenceBackend();
        HostMemory host = HostMemory.create("test");
        Parameters params = Parameters.initialise(plan, backend, 7);
        PlanRuntime rt = new PlanRuntime(params, batch);
        HostTensor images = host.allocate(Shape.nchw(batch, 1, 4, 4), DType.UINT8, "all")) {
      TinyModels.randomise(params, 8, 2.0); // far from uniform, so a wrong normaliser shows
      Scorer scorer = new Scorer(rt);
      for (int start = 0; start < total; start += batch) {
        for (int b = 0; b < batch; b++) {
          int code = start + b;
          for (int p = 0; p < 16; p++) {
            images.setUnsignedByte(b * 16L + p, (code >> p) & 1);
          }
        }
        rt.setImages(images);
        double[] nats = scorer.nats();
        for (int b = 0; b < batch; b++) {
          logp[start + b] = -nats[b];
          max = Math.max(max, -nats[b]);
        }
      }
    }
    double sum = 0;
    for (double l : logp) {
      sum += Math.exp(l - max);
    }
    double probability = Math.exp(max + Math.log(sum));
    assertEquals(1.0, probability, 1e-4, spec.name() + ": total probability");
  }

  static Stream<Arguments> samplable() {
    List<ModelSpec> specs = List.of(
        ModelSpec.multiscale("TwoByTwoGrey", 1, 2, 2, 1, new GatedSpec(2, 6, 3), UpscaleSpec.typeA(6, 1)),
        ModelSpec.multiscale("TwoByTwoRgb", 3, 2, 2, 1, new GatedSpec(2, 6, 3), UpscaleSpec.typeA(6, 1)),
        ModelSpec.raster("TwoByTwoRgbRaster", 3, 2, 2, new GatedSpec(2, 6, 3)));
    Stream.Builder<Arguments> cases = Stream.builder();
    for (ModelSpec spec : specs) {
      for (PlanRuntime.Mode mode : PlanRuntime.Mode.values()) {
        cases.add(Arguments.of(spec, mode, Kernels.REFERENCE));
      }
    }
    // The RGB multiscale model is the one whose heads run several times per trunk pass.
    cases.add(Arguments.of(specs.get(1), PlanRuntime.Mode.INFERENCE, Kernels.VECTOR));
    cases.add(Arguments.of(specs.get(1), PlanRuntime.Mode.TRAINING, Kernels.VECTOR));
    // Type B: the head runs once per place of the 2×2 patch; 2^16 images, so drawn on the inference runtime.
    cases.add(Arguments.of(typeB(), PlanRuntime.Mode.INFERENCE, Kernels.REFERENCE));
    cases.add(Arguments.of(typeB(), PlanRuntime.Mode.INFERENCE, Kernels.VECTOR));
    return cases.build();
  }

  /** The two CPU kernel sets. */
  enum Kernels {
    REFERENCE {
      @Override
      Backend create() {
        return new CpuReferenceBackend();
      }
    },
    VECTOR {
      @Override
      Backend create() {
        return new CpuVectorBackend("cpu-vector", 2);
      }
    };

    abstract Backend create();
  }

  /**
   * Samples follow the probabilities the scorer assigns: a chi-square test of 40,960 draws against the
   * exact probabilities of every image (bins expecting fewer than 5 merged into one; when even that one
   * expects fewer than 5, its count is checked against the Poisson tail instead). The threshold dof + 6·√(2·dof)
   * is six standard deviations of the statistic: a false alarm rate below 1e-6 for these dof, and the
   * seeds are fixed, so the test is deterministic.
   */
  @ParameterizedTest(name = "{0}, sampled on a {1} runtime, {2} kernels")
  @MethodSource("samplable")
  void samplerDrawsFromTheScoredDistribution(ModelSpec spec, PlanRuntime.Mode mode, Kernels kernels) {
    ExecutionPlan plan = PlanBuilder.build(spec);
    int dims = spec.channels() * spec.size() * spec.size();
    int outcomes = 1 << dims, batch = 4096, draws = 40_960;
    double[] p = new double[outcomes];
    long[] counts = new long[outcomes];
    // The exact probabilities come from the reference kernels' scorer; the draws from the runtime under test.
    try (CpuReferenceBackend backend = new CpuReferenceBackend();
        HostMemory host = HostMemory.create("test");
        Parameters params = Parameters.initialise(plan, backend, 3);
        PlanRuntime rt = new PlanRuntime(params, batch, PlanRuntime.Mode.INFERENCE);
        HostTensor images = host.allocate(Shape.nchw(batch, spec.channels(), spec.size(), spec.size()), DType.UINT8, "all")) {
      TinyModels.randomise(params, 4, 2.0);
      Scorer scorer = new Scorer(rt);
      for (int start = 0; start < outcomes; start += batch) {
        int n = Math.min(batch, outcomes - start);
        for (int b = 0; b < batch; b++) {
          int code = start + Math.min(b, n - 1);
          for (int d = 0; d < dims; d++) {
            images.setUnsignedByte((long) b * dims + d, (code >> d) & 1);
          }
        }
        rt.setImages(images);
        double[] nats = scorer.nats();
        for (int b = 0; b < n; b++) {
          p[start + b] = Math.exp(-nats[b]);
        }
      }
      try (Backend drawing = kernels.create();
          Parameters copy = Parameters.initialise(plan, drawing, 3);
          PlanRuntime sampling = new PlanRuntime(copy, batch, mode);
          Sampler sampler = new Sampler(sampling)) {
        TinyModels.randomise(copy, 4, 2.0);
        for (int round = 0; round < draws / batch; round++) {
          try (HostTensor drawn = sampler.sample(1000 + round, host)) {
            byte[] v = drawn.toByteArray();
            for (int b = 0; b < batch; b++) {
              int code = 0;
              for (int d = 0; d < dims; d++) {
                code |= (v[b * dims + d] & 1) << d;
              }
              counts[code]++;
            }
          }
        }
      }
    }
    double chi2 = 0, pooledObserved = 0, pooledExpected = 0;
    int bins = 0;
    for (int k = 0; k < outcomes; k++) {
      double expected = p[k] * draws;
      if (expected >= 5) {
        chi2 += (counts[k] - expected) * (counts[k] - expected) / expected;
        bins++;
      } else {
        pooledObserved += counts[k];
        pooledExpected += expected;
      }
    }
    if (pooledExpected >= 5) {
      chi2 += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected;
      bins++;
    } else {
      // Too rare to be a chi-square bin: the count of rare images must be plausible under Poisson.
      double tail = 1, term = Math.exp(-pooledExpected);
      for (int k = 0; k < pooledObserved; k++) {
        tail -= term;
        term *= pooledExpected / (k + 1);
      }
      assertTrue(tail > 1e-6, spec.name() + ": " + pooledObserved + " draws of images expected " + pooledExpected + " times");
    }
    int dof = bins - 1;
    assertTrue(dof >= 3, "too few bins to test: " + bins);
    StringBuilder worst = new StringBuilder();
    for (int k = 0; k < Math.min(outcomes, 16); k++) {
      worst.append(String.format(" [%d: %d vs %.1f]", k, counts[k], p[k] * draws));
    }
    assertTrue(chi2 < dof + 6 * Math.sqrt(2.0 * dof),
        spec.name() + ": chi-square " + chi2 + " with " + dof + " degrees of freedom; observed vs expected:" + worst);
  }

  /** A small class-conditional model memorises four images, one per class, to near-zero bits/dim. */
  @Test
  void tinyModelOverfitsOneBatch() {
    ModelSpec spec = ModelSpec.builder().name("Memoriser").kind(ModelKind.MULTISCALE).channels(1).levels(4).size(4).base(2)
        .gated(new GatedSpec(2, 16, 3)).upscaling(UpscaleSpec.typeA(16, 1))
        .addConditioning(new ConditioningSpec("test.Digit", ConditioningKind.CLASS_LABEL, 4)).build();
    ExecutionPlan plan = PlanBuilder.build(spec);
    int[][][][] img = TinyModels.images(spec, 4, 99);
    try (CpuReferenceBackend backend = new CpuReferenceBackend();
        HostMemory host = HostMemory.create("test");
        Parameters params = Parameters.initialise(plan, backend, 0);
        PlanRuntime rt = new PlanRuntime(params, 4);
        Adam adam = new Adam(params, AdamOp.of(1e-2, 0.9, 0.999, 1e-8), 0);
        HostTensor images = TinyModels.toTensor(host, img);
        HostTensor labels = TinyModels.labels(host, 0, 1, 2, 3)) {
      rt.setImages(images);
      rt.setConditioning(0, labels);
      double first = Double.NaN, last = Double.NaN;
      for (int step = 0; step < 300; step++) {
        rt.gradients();
        last = rt.bitsPerDim();
        if (step == 0) {
          first = last;
        }
        adam.update(rt, last);
      }
      assertTrue(first > 1.5, "starts near the uniform 2 bits/dim: " + first);
      assertTrue(last < 0.05, "after 300 steps: " + last + " bits/dim");
    }
  }
}
