package dev.mspx.testing.masking;

import dev.mspx.api.Backend;
import dev.mspx.api.Conv2dOp;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.Slot;
import dev.mspx.api.plan.SlotRole;
import dev.mspx.api.plan.Step;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.testing.Tolerances;
import dev.mspx.testing.Tolerances.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * {@link MaskingProperties#agreement}: one training step of a plan on two backends, step by step.
 * Before each step the backend under test is given the reference's values of everything the step
 * reads (teacher forcing), so each comparison measures one op on the plan's real shapes and data,
 * against the per-op bound of the conformance suite; errors never compound.
 */
final class StepAgreement {

  private StepAgreement() {}

  /** Images per batch: two, so that batch-dependent indexing bugs show. */
  private static final int BATCH = 2;

  private static final Tolerance EXACT = new Tolerance(0, 0);

  /** End to end, each network's summed nll: a wrong op is off by O(1), rounding by far less. */
  static final double END_TO_END_RTOL = 1e-3;

  static void check(MaskingCase c, Supplier<? extends Backend> underTest, Supplier<? extends Backend> reference, Tolerances tol) {
    ExecutionPlan plan = c.plan();
    ModelSpec spec = plan.spec();
    try (Backend test = underTest.get();
        Backend ref = reference.get();
        HostMemory host = HostMemory.create("agreement");
        Parameters pt = Parameters.initialise(plan, test, c.weights());
        Parameters pr = Parameters.initialise(plan, ref, c.weights());
        PlanRuntime rt = new PlanRuntime(pt, BATCH);
        PlanRuntime rr = new PlanRuntime(pr, BATCH)) {
      PlanProbe.randomise(pt, new SplittableRandom(c.weights()), 1.0);
      PlanProbe.randomise(pr, new SplittableRandom(c.weights()), 1.0);
      List<HostTensor> inputs = inputs(host, spec, c);
      try {
        load(rt, inputs);
        load(rr, inputs);
        double scale = spec.bitsPerDim(1.0, BATCH);
        List<Step> prepare = plan.prepare();
        for (Step s : prepare) {
          step(c, "prepare", s, rt, rr, host, tol);
        }
        for (Network n : plan.networks()) {
          for (Step s : n.forward()) {
            step(c, n.name() + " forward", s, rt, rr, host, tol);
          }
          for (Step s : n.loss()) {
            step(c, n.name() + " loss", s, rt, rr, host, tol);
          }
          test.fill(rt.tensor(n.dnll()), scale);
          ref.fill(rr.tensor(n.dnll()), scale);
          for (Step s : n.backward()) {
            step(c, n.name() + " backward", s, rt, rr, host, tol);
          }
        }
        // End to end, free running: each network's loss.
        load(rt, inputs);
        load(rr, inputs);
        rt.gradients();
        rr.gradients();
        for (Network n : plan.networks()) {
          double a = scalar(rt, n.lossSum(), host), e = scalar(rr, n.lossSum(), host);
          if (!(Math.abs(a - e) <= END_TO_END_RTOL * Math.abs(e))) {
            throw new AssertionError(String.format(Locale.ROOT,
                "agreement of %s with %s on %s of %s: network %s end to end, summed nll %s against the reference's %s (bound %.0e relative)",
                test.name(), ref.name(), c.variant(), spec.name(), n.name(), a, e, END_TO_END_RTOL));
          }
        }
      } finally {
        for (HostTensor t : inputs) {
          t.close();
        }
      }
    }
  }

  /** The case's image and a second one (its levels reversed), and conditioning drawn from the seed. */
  private static List<HostTensor> inputs(HostMemory host, ModelSpec spec, MaskingCase c) {
    List<HostTensor> out = new ArrayList<>();
    int per = c.image().length;
    HostTensor img = host.allocate(Shape.nchw(BATCH, spec.channels(), spec.size(), spec.size()), DType.UINT8, "agreement.images");
    for (int i = 0; i < per; i++) {
      img.setUnsignedByte(i, c.image()[i]);
      img.setUnsignedByte(per + i, spec.levels() - 1 - c.image()[i]);
    }
    out.add(img);
    SplittableRandom r = new SplittableRandom(c.perturbation());
    for (ConditioningSpec cs : spec.conditioning()) {
      if (cs.kind() == ConditioningKind.CLASS_LABEL) {
        out.add(host.allocate(Shape.of(BATCH), DType.INT32, "agreement.labels").copyFrom(new int[] {r.nextInt(cs.width()), r.nextInt(cs.width())}));
      } else {
        float[] v = new float[BATCH * cs.width()];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        out.add(host.allocate(Shape.of(BATCH, cs.width()), DType.FLOAT32, "agreement.vectors").copyFrom(v));
      }
    }
    return out;
  }

  private static void load(PlanRuntime rt, List<HostTensor> inputs) {
    rt.setImages(inputs.get(0));
    for (int i = 1; i < inputs.size(); i++) {
      rt.setConditioning(i - 1, inputs.get(i));
    }
  }

  private static double scalar(PlanRuntime rt, int slot, HostMemory host) {
    try (HostTensor h = rt.backend().toHost(rt.tensor(slot), host)) {
      return h.getAsDouble(0);
    }
  }

  /** Copies the reference's inputs of {@code s} to the backend under test, runs it on both, compares. */
  private static void step(MaskingCase c, String where, Step s, PlanRuntime rt, PlanRuntime rr, HostMemory host, Tolerances tol) {
    ExecutionPlan plan = rr.plan();
    for (int id : s.reads()) {
      SlotRole role = plan.slot(id).role();
      if (role == SlotRole.PARAMETER || role == SlotRole.MASK) {
        continue; // the same values on both sides from the start
      }
      try (HostTensor h = rr.backend().toHost(rr.tensor(id), host)) {
        rt.backend().copyFromHost(h, rt.tensor(id));
      }
    }
    rr.run(List.of(s));
    rt.run(List.of(s));
    Tolerance bound = bound(s, plan, tol);
    for (int id : s.writes()) {
      Slot slot = plan.slot(id);
      try (HostTensor e = rr.backend().toHost(rr.tensor(id), host);
          HostTensor a = rt.backend().toHost(rt.tensor(id), host)) {
        for (long i = 0; i < e.shape().elements(); i++) {
          double ev = e.getAsDouble(i), av = a.getAsDouble(i);
          if (!bound.accepts(ev, av)) {
            throw new AssertionError(String.format(Locale.ROOT,
                "agreement of %s with %s on %s of %s: %s step %s wrote %s[%d] = %s, the reference %s (bound %s)",
                rt.backend().name(), rr.backend().name(), c.variant(), plan.spec().name(), where, s.getClass().getSimpleName(),
                slot.name(), i, av, ev, bound));
          }
        }
      }
    }
  }

  /** The conformance suite's tolerance family of a step, with K (terms per output) where it counts. */
  static Tolerance bound(Step s, ExecutionPlan plan, Tolerances t) {
    return switch (s) {
      case Step.Conv cv -> t.convolution().forSumOf(terms(cv.op(), cv.op().inChannels()));
      case Step.ConvBackwardData d -> t.convolution().forSumOf(terms(d.op(), d.op().outChannels()));
      case Step.ConvBackwardFilter f -> t.convolution().forSumOf(spatial(plan.slot(f.x()).shape()) * batchOf(plan, f.x()));
      case Step.Matmul m -> t.matmul().forSumOf(plan.slot(m.a()).shape().dim(m.transposeA() ? 0 : 1) * (m.transposeA() ? BATCH : 1L));
      case Step.Gate g -> t.activation();
      case Step.GateBackward g -> t.activation();
      case Step.Relu r -> t.elementwise();
      case Step.ReluBackward r -> t.elementwise();
      case Step.Add a -> t.elementwise();
      case Step.AddChannelBias a -> t.elementwise();
      case Step.Dequantize d -> t.elementwise();
      case Step.SumSpatial ss -> t.reduction().forSumOf(spatial(plan.slot(ss.dy()).shape()) * BATCH);
      case Step.EmbeddingBackward eb -> t.reduction().forSumOf(BATCH);
      case Step.Sum sum -> t.reduction().forSumOf(plan.slot(sum.x()).shape().elements() * BATCH);
      case Step.SoftmaxCrossEntropy sce -> t.softmax();
      case Step.SoftmaxCrossEntropyBackward sce -> t.softmax();
      case Step.EmbeddingLookup el -> EXACT;
      case Step.Concat cc -> EXACT;
      case Step.Split sp -> EXACT;
      case Step.SpaceToDepth sd -> EXACT;
      case Step.DepthToSpace ds -> EXACT;
    };
  }

  private static long terms(Conv2dOp op, int channels) {
    return (long) channels * op.kernelHeight() * op.kernelWidth();
  }

  private static long spatial(Shape s) {
    return s.rank() == 4 ? (long) s.dim(2) * s.dim(3) : 1;
  }

  private static long batchOf(ExecutionPlan plan, int slot) {
    return plan.slot(slot).batched() ? BATCH : 1;
  }
}
