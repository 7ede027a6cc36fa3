package dev.mspx.testing.masking;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;

/**
 * One example for the masking properties: a plan (a reference plan, or a {@linkplain Mutant mutant}
 * of one), the seed of its random weights, an image, a step of the generation order and a sub-pixel.
 * Each property reads what it needs: causality the step, the receptive-field properties the
 * sub-pixel.
 *
 * @param plan the plan under test
 * @param variant what the plan is: "reference plan" or the mutant's name
 * @param weights seed of the random weights and conditioning inputs ({@link PlanProbe})
 * @param image {@code [C, H, W]} flattened, each sub-pixel in 0..L-1
 * @param step a step q of the generation order, {@code 0 <= q < GenerationOrder.stepCount()}
 * @param subPixel a sub-pixel p as a flat index into {@code [C, H, W]}
 * @param perturbation seed of the new values written into perturbed sub-pixels
 */
public record MaskingCase(
    ExecutionPlan plan, String variant, long weights, int[] image, int step, int subPixel, long perturbation) {

  public ModelSpec spec() {
    return plan.spec();
  }

  /** The channel of {@link #subPixel}. */
  public int channel() {
    int hw = spec().size() * spec().size();
    return subPixel / hw;
  }

  /** The row of {@link #subPixel}. */
  public int row() {
    return subPixel % (spec().size() * spec().size()) / spec().size();
  }

  /** The column of {@link #subPixel}. */
  public int column() {
    return subPixel % spec().size();
  }

  /** What a failure report shows: enough to rebuild the case by hand. */
  @Override
  public String toString() {
    ModelSpec s = spec();
    StringBuilder b = new StringBuilder();
    b.append(variant).append(" of ").append(s).append('\n');
    b.append("    weights seed ").append(weights).append(", perturbation seed ").append(perturbation)
        .append(", step q = ").append(step).append(", sub-pixel p = (c=").append(channel()).append(", y=")
        .append(row()).append(", x=").append(column()).append(")\n");
    b.append("    image [C][H][W]:");
    int h = s.size();
    for (int c = 0; c < s.channels(); c++) {
      b.append(c == 0 ? " " : " | ");
      for (int y = 0; y < h; y++) {
        b.append(y == 0 ? "" : "/");
        for (int x = 0; x < h; x++) {
          b.append(x == 0 ? "" : ",").append(image[(c * h + y) * h + x]);
        }
      }
    }
    return b.toString();
  }
}
