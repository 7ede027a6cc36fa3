package dev.mspx.api.plan;

/** How a parameter starts (DESIGN.md section 6, "Initialisation"). */
public sealed interface Init {

  /** U(-bound, bound) with bound = 1/√fan_in, fan_in = input channels × taps in the mask's bounding box. */
  record Uniform(int fanIn) implements Init {
    public double bound() {
      return 1.0 / Math.sqrt(fanIn);
    }
  }

  /** All zeros: conditioning tables, so that a conditional model starts as the unconditional one. */
  record Zeros() implements Init {}
}
