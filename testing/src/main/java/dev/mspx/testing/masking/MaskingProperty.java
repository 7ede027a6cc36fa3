package dev.mspx.testing.masking;

/** The masking properties of {@link MaskingProperties}, by name: what a {@link Mutant} is killed by. */
public enum MaskingProperty {
  /** {@link MaskingProperties#causality}. */
  CAUSALITY,
  /** {@link MaskingProperties#noBlindSpot}. */
  NO_BLIND_SPOT,
  /** {@link MaskingProperties#generationOrder}. */
  GENERATION_ORDER,
  /** {@link MaskingProperties#normalisation}. */
  NORMALISATION
}
