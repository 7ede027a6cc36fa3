package dev.mspx.api.plan;

/** What a slot holds, which decides where its memory lives. */
public enum SlotRole {
  /** The batch the caller supplies: images (uint8), labels (int32), conditioning vectors. Arena. */
  INPUT,
  /** A learned tensor; allocated once, outside the arena. */
  PARAMETER,
  /** A constant 0/1 weight mask; allocated once, outside the arena. */
  MASK,
  /** An intermediate value of a forward pass. Arena. */
  ACTIVATION,
  /** The gradient of an activation. Arena. */
  GRADIENT,
  /** The gradient of a parameter; allocated once, outside the arena, read by the optimiser. */
  PARAMETER_GRADIENT,
  /** A one-element reduction (a network's summed loss); outside the arena. */
  SCALAR;

  /** Whether slots of this role are laid out in the per-step arena (their size scales with the batch). */
  public boolean inArena() {
    return this == INPUT || this == ACTIVATION || this == GRADIENT;
  }
}
