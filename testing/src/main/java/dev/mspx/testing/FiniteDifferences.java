package dev.mspx.testing;

import java.util.function.ToDoubleFunction;

/**
 * Central finite differences in float64: the gradient of a scalar loss, element by element, with no
 * knowledge of the op's backward formula. The suite uses {@code loss = Σ r·f(inputs)} computed by
 * {@link F64}, so the result is what a backward op must return for upstream gradient r.
 */
public final class FiniteDifferences {

  /**
   * The default step: central differences err by about {@code h²·|f'''|/6}, 1e-7 for the smooth ops
   * here, while float64 cancellation costs about {@code 1e-16·|loss|/h}, 1e-12; both far below the
   * finite-difference tolerance.
   */
  public static final double STEP = 1e-3;

  private FiniteDifferences() {}

  /**
   * {@code ∂loss/∂x[i] ≈ (loss(x + h·e_i) - loss(x - h·e_i)) / 2h} for every i. {@code x} is left
   * as it was.
   */
  public static double[] gradient(double[] x, ToDoubleFunction<double[]> loss, double h) {
    double[] probe = x.clone();
    double[] g = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double xi = probe[i];
      probe[i] = xi + h;
      double up = loss.applyAsDouble(probe);
      probe[i] = xi - h;
      double down = loss.applyAsDouble(probe);
      probe[i] = xi;
      g[i] = (up - down) / (2 * h);
    }
    return g;
  }

  /** {@link #gradient(double[], ToDoubleFunction, double)} with {@link #STEP}. */
  public static double[] gradient(double[] x, ToDoubleFunction<double[]> loss) {
    return gradient(x, loss, STEP);
  }
}
