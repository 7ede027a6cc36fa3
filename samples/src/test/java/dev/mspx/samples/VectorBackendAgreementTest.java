package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.samples.configs.Fashion28Plan;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vector CPU kernels agree with the scalar oracle on a real plan, not only op by op: fashion28's
 * first network (the 7×7 gated PixelCNN, six masked layers deep) run forward, loss and backward at
 * batch 2 on both backends from the same parameters and images.
 *
 * <p>Tolerances: the vector backend accumulates in float32 and the reference in double, so each
 * layer adds a few float32 roundings (u ≈ 6e-8) per K ≤ 960 terms, compounded over six layers and
 * back. Measured: bits/dim within 1e-7 relative, every checked gradient within 7e-7 of its largest
 * element. The bounds below leave ten to twenty times that, while a wrong tap, mask or channel moves
 * a gradient by O(1) of its scale.
 */
class VectorBackendAgreementTest {

  private static final int BATCH = 2;

  /** Relative bound on the first network's bits/dim. */
  private static final double LOSS_RTOL = 1e-6;

  /** Bound on |vector - reference| per element, relative to the largest |reference| of the tensor. */
  private static final double GRADIENT_RTOL = 1e-5;

  /** Parameters of the base network: masked 5×5 stacks (first and deep), a 1×1 and the output head. */
  private static final List<String> CHECKED =
      List.of(
          "base.layer0.vertical.weight",
          "base.layer0.horizontal.weight",
          "base.layer3.vertical.weight",
          "base.layer3.horizontal.weight",
          "base.layer3.vertical_to_horizontal.weight",
          "base.layer5.horizontal.out.weight",
          "base.out.logits.weight",
          "base.out.logits.bias");

  /** What one backend computed: the network's bits/dim and the checked gradients. */
  private record Result(double bitsPerDim, List<float[]> gradients) {}

  @Test
  void firstNetworkForwardAndBackwardAgreeWithTheReference() {
    ExecutionPlan plan = Fashion28Plan.plan();
    Network first = plan.networks().get(0);
    byte[] images = new byte[BATCH * 28 * 28];
    new SplittableRandom(11).nextBytes(images);
    Result reference;
    try (Backend b = new CpuReferenceBackend()) {
      reference = run(plan, first, b, images);
    }
    Result vector;
    try (Backend b = new CpuVectorBackend()) {
      vector = run(plan, first, b, images);
    }
    assertTrue(reference.bitsPerDim() > 1 && reference.bitsPerDim() < 16, "implausible loss " + reference.bitsPerDim());
    assertEquals(
        reference.bitsPerDim(),
        vector.bitsPerDim(),
        LOSS_RTOL * reference.bitsPerDim(),
        "bits/dim of " + first.name());
    for (int k = 0; k < CHECKED.size(); k++) {
      float[] r = reference.gradients().get(k);
      float[] v = vector.gradients().get(k);
      double scale = 0;
      for (float g : r) {
        scale = Math.max(scale, Math.abs(g));
      }
      assertTrue(scale > 0, CHECKED.get(k) + ": the reference gradient is all zero, so this checks nothing");
      int worst = 0;
      double worstDiff = 0;
      for (int i = 0; i < r.length; i++) {
        if (r[i] == 0 && v[i] != 0) {
          throw new AssertionError(CHECKED.get(k) + "[" + i + "] = " + v[i] + " where the reference is exactly 0 (masked?)");
        }
        double d = Math.abs(v[i] - r[i]);
        if (d > worstDiff) {
          worstDiff = d;
          worst = i;
        }
      }
      assertTrue(
          worstDiff <= GRADIENT_RTOL * scale,
          CHECKED.get(k) + ": worst element " + worst + " is " + v[worst] + " against " + r[worst]
              + ", |diff| " + worstDiff + " > " + GRADIENT_RTOL + " × max|reference| " + scale);
    }
  }

  private static Result run(ExecutionPlan plan, Network net, Backend backend, byte[] images) {
    try (Parameters params = Parameters.initialise(plan, backend, 5);
        PlanRuntime rt = new PlanRuntime(params, BATCH);
        HostMemory host = HostMemory.create("agreement");
        HostTensor img = host.allocate(Shape.nchw(BATCH, 1, 28, 28), DType.UINT8, "images")) {
      img.copyFrom(images);
      rt.setImages(img);
      rt.prepare();
      rt.forward(net);
      rt.loss(net);
      int dims = net.resolution() * net.resolution() * plan.spec().channels();
      double scale = 1.0 / (BATCH * dims * Math.log(2));
      rt.backward(net, scale);
      double nats;
      try (HostTensor loss = backend.toHost(rt.tensor(net.lossSum()), host)) {
        nats = loss.getFloat(0);
      }
      List<float[]> grads =
          CHECKED.stream()
              .map(
                  name -> {
                    ParameterSpec p = params.spec(name);
                    try (HostTensor g = backend.toHost(rt.tensor(p.gradient()), host)) {
                      return g.toFloatArray();
                    }
                  })
              .toList();
      return new Result(nats * scale, grads);
    }
  }
}
