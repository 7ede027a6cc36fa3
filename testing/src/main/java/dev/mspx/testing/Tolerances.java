package dev.mspx.testing;

import java.util.Objects;

/**
 * How far a backend's results may lie from the suite's float64 oracle, per family of ops. Every
 * comparison is {@code |actual - expected| <= atol + rtol·|expected|}; NaN never passes.
 *
 * <p>The {@linkplain #float32() defaults} are for a backend that computes in float32 with float32
 * or wider accumulators, on inputs of magnitude about 1 (the suite draws them from [-1, 1] unless a
 * test says otherwise). The unit roundoff of float32 is {@code u = 2^-24 ≈ 6e-8}:
 *
 * <ul>
 *   <li>{@link #elementwise()} 1e-6 abs, 1e-6 rel: add, scale, relu, reluBackward, addChannelBias,
 *       dequantize round once or twice, so a few u of an O(1) value.
 *   <li>{@link #activation()} 1e-6 abs, 1e-6 rel: gate and gateBackward chain tanh, sigmoid and two
 *       or three products, each correctly rounded to a few u; its own knob so that a backend with
 *       approximate transcendentals can loosen only this.
 *   <li>{@link #convolution()} 1e-5 abs per √(terms), 1e-5 rel: a dot product of K float32 products
 *       of O(1) values accumulates rounding like a random walk, about {@code u·K}; {@code 1e-5·√K}
 *       is above that for every K up to (1e-5/u)² ≈ 27,000 (the largest layer of DESIGN.md's
 *       reference configurations has K = 5·5·192 = 4,800), while a wrong tap or channel is off by
 *       O(0.1). Forward: K = Cin·kH·kW; backward-data: Cout·kH·kW; backward-filter and dbias:
 *       N·H·W.
 *   <li>{@link #matmul()} 1e-5 abs per √K, 1e-5 rel: the same argument, K the inner dimension.
 *   <li>{@link #reduction()} 1e-6 abs per √n, 1e-6 rel: sum, sumOfSquares, sumSpatial and
 *       embeddingBackward are plain sums; the reference accumulates in double so only the final
 *       rounding (u·|sum|) remains, and √n covers a float32 pairwise sum of n terms.
 *   <li>{@link #softmax()} 1e-6 abs, 1e-5 rel: logsumexp over up to 256 logits loses a few u of the
 *       largest logit (relative to the nll, about log 256 ≈ 5.5); the small absolute bound keeps
 *       the ≈1/256 probabilities inside the gradient meaningful.
 *   <li>{@link #adam()} 1e-6 abs, 1e-6 rel: float32 parameters, m and v are rounded once per step
 *       (at most u·|p| ≈ 6e-8 for |p| ≤ 1), over the handful of steps a test runs; m and v are
 *       compared bias-corrected (m/(1-β1^t), v/(1-β2^t)), the O(1) values the update uses, so the
 *       absolute part means the same for all three.
 *   <li>{@link #finiteDifference()} 1e-4 abs, 1e-3 rel: a float32 backward against central
 *       differences of the float64 oracle (step 1e-3, truncation error ≈ 1e-7); the bound is loose
 *       on purpose because this check is about the formula (a missing term, a transposed kernel),
 *       which is wrong by O(1), not about rounding, which the oracle comparisons already pin down.
 * </ul>
 *
 * <p>A backend that is faster and less exact (TF32 tensor cores, approximate exp) declares looser
 * bounds by overriding {@link BackendConformanceSuite#tolerances()}, e.g. {@code
 * Tolerances.float32().withConvolution(new Tolerance(1e-3, 1e-3))}, and says why in a comment.
 */
public record Tolerances(
    Tolerance elementwise,
    Tolerance activation,
    Tolerance convolution,
    Tolerance matmul,
    Tolerance reduction,
    Tolerance softmax,
    Tolerance adam,
    Tolerance finiteDifference) {

  public Tolerances {
    Objects.requireNonNull(elementwise, "elementwise");
    Objects.requireNonNull(activation, "activation");
    Objects.requireNonNull(convolution, "convolution");
    Objects.requireNonNull(matmul, "matmul");
    Objects.requireNonNull(reduction, "reduction");
    Objects.requireNonNull(softmax, "softmax");
    Objects.requireNonNull(adam, "adam");
    Objects.requireNonNull(finiteDifference, "finiteDifference");
  }

  /** The defaults for a float32 backend; see the class comment for the reason behind each. */
  public static Tolerances float32() {
    return new Tolerances(
        new Tolerance(1e-6, 1e-6),
        new Tolerance(1e-6, 1e-6),
        new Tolerance(1e-5, 1e-5),
        new Tolerance(1e-5, 1e-5),
        new Tolerance(1e-6, 1e-6),
        new Tolerance(1e-6, 1e-5),
        new Tolerance(1e-6, 1e-6),
        new Tolerance(1e-4, 1e-3));
  }

  public Tolerances withElementwise(Tolerance t) {
    return new Tolerances(
        t, activation, convolution, matmul, reduction, softmax, adam, finiteDifference);
  }

  public Tolerances withActivation(Tolerance t) {
    return new Tolerances(
        elementwise, t, convolution, matmul, reduction, softmax, adam, finiteDifference);
  }

  public Tolerances withConvolution(Tolerance t) {
    return new Tolerances(
        elementwise, activation, t, matmul, reduction, softmax, adam, finiteDifference);
  }

  public Tolerances withMatmul(Tolerance t) {
    return new Tolerances(
        elementwise, activation, convolution, t, reduction, softmax, adam, finiteDifference);
  }

  public Tolerances withReduction(Tolerance t) {
    return new Tolerances(
        elementwise, activation, convolution, matmul, t, softmax, adam, finiteDifference);
  }

  public Tolerances withSoftmax(Tolerance t) {
    return new Tolerances(
        elementwise, activation, convolution, matmul, reduction, t, adam, finiteDifference);
  }

  public Tolerances withAdam(Tolerance t) {
    return new Tolerances(
        elementwise, activation, convolution, matmul, reduction, softmax, t, finiteDifference);
  }

  public Tolerances withFiniteDifference(Tolerance t) {
    return new Tolerances(
        elementwise, activation, convolution, matmul, reduction, softmax, adam, t);
  }

  /**
   * One bound: {@code |actual - expected| <= atol + rtol·|expected|}.
   *
   * @param atol the absolute part (for sums: per √terms, see {@link #forSumOf})
   * @param rtol the part relative to the expected value
   */
  public record Tolerance(double atol, double rtol) {

    public Tolerance {
      if (!(atol >= 0) || !(rtol >= 0) || Double.isInfinite(atol) || Double.isInfinite(rtol)) {
        throw new IllegalArgumentException(
            "tolerance needs finite atol, rtol >= 0, got atol=" + atol + " rtol=" + rtol);
      }
    }

    /** The largest |actual - expected| accepted. */
    public double bound(double expected) {
      return atol + rtol * Math.abs(expected);
    }

    /**
     * Whether {@code actual} is close enough; false for NaN, and for any infinity that is not
     * exact.
     */
    public boolean accepts(double expected, double actual) {
      if (expected == actual) {
        return true; // equal infinities too, whose difference would be NaN
      }
      if (Double.isInfinite(expected) || Double.isInfinite(actual)) {
        return false; // an infinite expected value would make the bound infinite too
      }
      return Math.abs(actual - expected) <= bound(expected);
    }

    /**
     * The bound for a result that sums {@code terms} rounded products: the absolute part grows like
     * the random walk of float32 rounding errors, {@code atol·√terms}.
     */
    public Tolerance forSumOf(long terms) {
      return new Tolerance(atol * Math.sqrt(Math.max(1, terms)), rtol);
    }

    @Override
    public String toString() {
      return "atol " + atol + " + rtol " + rtol + "·|expected|";
    }
  }
}
