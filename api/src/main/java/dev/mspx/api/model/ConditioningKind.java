package dev.mspx.api.model;

/** The kinds of conditioning a plan knows how to wire. */
public enum ConditioningKind {
  /** An integer label {@code 0..width-1} per image: a learned per-class bias in every layer. */
  CLASS_LABEL,
  /** A float vector of {@code width} per image (text encoding, action): projected to a bias per layer. */
  GLOBAL_VECTOR,
  /**
   * A map of {@code width} channels per image, resized to each scale and concatenated to the trunk
   * input. Declared here so that the rule that plans do not wire it yet is a compile error, not a
   * surprise.
   */
  SPATIAL
}
