package dev.mspx.api;

import org.immutables.value.Value;

/**
 * Adam (Kingma and Ba 2015) with bias correction, no weight decay: for step {@code t >= 1},
 * {@code m = b1·m + (1-b1)·g}, {@code v = b2·v + (1-b2)·g²},
 * {@code p -= lr · (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)}. The defaults are DESIGN.md's.
 */
@Value.Immutable
public abstract class AdamOp {

  AdamOp() {}

  @Value.Default
  public double learningRate() {
    return 1e-3;
  }

  @Value.Default
  public double beta1() {
    return 0.9;
  }

  @Value.Default
  public double beta2() {
    return 0.999;
  }

  @Value.Default
  public double epsilon() {
    return 1e-8;
  }

  public static AdamOp defaults() {
    return ImmutableAdamOp.builder().build();
  }

  public static AdamOp of(double learningRate, double beta1, double beta2, double epsilon) {
    return ImmutableAdamOp.builder()
        .learningRate(learningRate)
        .beta1(beta1)
        .beta2(beta2)
        .epsilon(epsilon)
        .build();
  }

  @Value.Check
  protected void check() {
    if (!(learningRate() > 0) || !Double.isFinite(learningRate())) {
      throw new IllegalArgumentException("adam: learning rate must be finite and > 0, got " + learningRate());
    }
    if (!(beta1() >= 0 && beta1() < 1) || !(beta2() >= 0 && beta2() < 1)) {
      throw new IllegalArgumentException(
          "adam: betas must lie in [0, 1), got " + beta1() + ", " + beta2());
    }
    if (!(epsilon() > 0)) {
      throw new IllegalArgumentException("adam: epsilon must be > 0, got " + epsilon());
    }
  }
}
