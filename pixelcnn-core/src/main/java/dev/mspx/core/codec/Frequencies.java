package dev.mspx.core.codec;

/**
 * The quantisation rule that turns one sub-pixel's float32 logits into the integer frequencies the
 * range coder codes with: the same logits give the same frequencies on every JVM, so an encoder and a
 * decoder that see bit-identical logits agree bit for bit.
 *
 * <p>For L logits {@code z} (L ≤ 256) and total {@code T = 2^16}:
 *
 * <ol>
 *   <li>{@code m = max z}; any NaN or infinite logit is refused;
 *   <li>{@code e_l = StrictMath.exp((double) z_l - m)} (fdlibm, the same bits on every JVM, unlike
 *       {@code Math.exp}, which may be an intrinsic);
 *   <li>{@code S = Σ e_l}, summed in double from l = 0 up;
 *   <li>{@code f_l = 1 + floor(e_l · (T - L) / S)}: every symbol at least 1, so every level stays
 *       codable; the sum is at most T;
 *   <li>what is left, {@code T - Σ f_l}, goes to the most frequent symbol (the lowest such l).
 * </ol>
 *
 * Cost against the exact model: a symbol of probability p is coded with at least {@code p·(1 - L/T)},
 * at most {@code -log2(1 - L/T) ≈ 0.0056} bits more per sub-pixel for L = 256.
 */
public final class Frequencies {

  /** log2 of the total every table sums to. */
  public static final int TOTAL_BITS = 16;

  /** The total every table sums to. */
  public static final int TOTAL = 1 << TOTAL_BITS;

  private Frequencies() {}

  /**
   * Writes the frequencies of {@code z[0..levels)} into {@code freq} and their running sums into
   * {@code start} ({@code start[l] = f_0 + … + f_{l-1}}).
   */
  public static void of(float[] z, int levels, int[] freq, int[] start) {
    if (levels < 2 || levels > 256) {
      throw new IllegalArgumentException("levels " + levels + ": the codec codes 2 to 256 levels");
    }
    float m = z[0];
    for (int l = 0; l < levels; l++) {
      if (!Float.isFinite(z[l])) {
        throw new IllegalStateException("the model gave logit " + z[l] + " for level " + l + ": it cannot code with a non-finite distribution");
      }
      m = Math.max(m, z[l]);
    }
    double[] e = new double[levels];
    double sum = 0;
    for (int l = 0; l < levels; l++) {
      e[l] = StrictMath.exp((double) z[l] - m);
      sum += e[l];
    }
    double scale = (double) (TOTAL - levels) / sum;
    int total = 0, best = 0;
    for (int l = 0; l < levels; l++) {
      freq[l] = 1 + (int) Math.floor(e[l] * scale);
      total += freq[l];
      if (freq[l] > freq[best]) {
        best = l;
      }
    }
    freq[best] += TOTAL - total;
    int s = 0;
    for (int l = 0; l < levels; l++) {
      start[l] = s;
      s += freq[l];
    }
  }

  /** The symbol whose range {@code [start[l], start[l] + freq[l])} holds {@code value} (binary search). */
  public static int symbol(int[] start, int levels, int value) {
    int lo = 0, hi = levels - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (start[mid] <= value) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }
}
