package dev.mspx.core;

import dev.mspx.api.AdamOp;
import dev.mspx.api.Backend;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.DType;
import dev.mspx.api.Tensor;
import dev.mspx.api.plan.ParameterSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam over every parameter of a plan (DESIGN.md: β = (0.9, 0.999), ε = 1e-8, no decay, no schedule),
 * with optional global-norm gradient clipping and a check that stops on the first non-finite loss or
 * gradient, naming the step and the tensor.
 */
public final class Adam implements AutoCloseable {

  private final Parameters parameters;
  private final AdamOp op;
  private final double clipNorm;
  private final Map<ParameterSpec, Tensor[]> state = new LinkedHashMap<>();
  private final Tensor norm;
  private long step;

  /**
   * @param clipNorm the largest global gradient norm; 0 for no clipping (DESIGN.md's default)
   */
  public Adam(Parameters parameters, AdamOp op, double clipNorm) {
    if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
      throw new IllegalArgumentException("gradient clip norm must be finite and >= 0 (0: off), got " + clipNorm);
    }
    this.parameters = parameters;
    this.op = op;
    this.clipNorm = clipNorm;
    Backend b = parameters.backend();
    try {
      for (ParameterSpec p : parameters.plan().parameters()) {
        Shape s = parameters.plan().slot(p.slot()).shape();
        Tensor m = b.allocate(s, DType.FLOAT32, p.name() + ".adam_m");
        Tensor v = b.allocate(s, DType.FLOAT32, p.name() + ".adam_v");
        state.put(p, new Tensor[] {m, v});
        b.fill(m, 0);
        b.fill(v, 0);
      }
      norm = b.allocate(Shape.of(1), DType.FLOAT32, "adam.grad_norm_sq");
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public AdamOp op() {
    return op;
  }

  /** Steps taken so far (Adam's t). */
  public long steps() {
    return step;
  }

  /** The first moment and second moment of a parameter (for checkpoints). */
  public Tensor[] moments(ParameterSpec p) {
    return state.get(p);
  }

  /** Restores the step count from a checkpoint (moments are restored through {@link #moments}). */
  public void setSteps(long steps) {
    this.step = steps;
  }

  /**
   * Checks the loss and gradients of the step that {@code runtime} just computed, clips them if asked,
   * and updates every parameter. Returns the global gradient norm (before clipping).
   *
   * @throws TrainingDivergedException when the loss or a gradient is NaN or infinite
   */
  public double update(PlanRuntime runtime, double loss) {
    long next = step + 1;
    if (!Double.isFinite(loss)) {
      throw new TrainingDivergedException(
          "step " + next + ": the loss is " + loss + " bits/dim; lower the learning rate (--lr) or clip gradients (--clip)");
    }
    Backend b = parameters.backend();
    double total = 0;
    try (HostMemory host = HostMemory.create("adam"); HostTensor h = host.allocate(Shape.of(1), DType.FLOAT32, "norm")) {
      for (ParameterSpec p : state.keySet()) {
        Tensor g = runtime.tensor(p.gradient());
        b.sumOfSquares(g, norm);
        b.copyToHost(norm, h);
        double sq = h.getFloat(0);
        if (!Double.isFinite(sq)) {
          throw new TrainingDivergedException(
              "step " + next + ": the gradient of " + p.name() + " is not finite (sum of squares " + sq
                  + "); lower the learning rate (--lr) or clip gradients (--clip)");
        }
        total += sq;
      }
    }
    double globalNorm = Math.sqrt(total);
    if (clipNorm > 0 && globalNorm > clipNorm) {
      double scale = clipNorm / globalNorm;
      for (ParameterSpec p : state.keySet()) {
        Tensor g = runtime.tensor(p.gradient());
        b.scale(g, scale, g);
      }
    }
    for (Map.Entry<ParameterSpec, Tensor[]> e : state.entrySet()) {
      ParameterSpec p = e.getKey();
      b.adamUpdate(op, next, parameters.tensor(p.slot()), runtime.tensor(p.gradient()), e.getValue()[0], e.getValue()[1]);
    }
    step = next;
    return globalNorm;
  }

  @Override
  public void close() {
    for (Tensor[] mv : state.values()) {
      mv[0].close();
      mv[1].close();
    }
    state.clear();
    if (norm != null) {
      norm.close();
    }
  }
}
