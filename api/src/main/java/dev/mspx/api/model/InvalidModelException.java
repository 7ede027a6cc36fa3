package dev.mspx.api.model;

import java.util.List;
import java.util.stream.Collectors;

/** A model spec broke one or more rules; the message lists every one. */
public final class InvalidModelException extends IllegalArgumentException {

  private final List<SpecViolation> violations;

  public InvalidModelException(String model, List<SpecViolation> violations) {
    super(
        "model "
            + model
            + " is invalid:\n  "
            + violations.stream().map(SpecViolation::toString).collect(Collectors.joining("\n  ")));
    this.violations = List.copyOf(violations);
  }

  public List<SpecViolation> violations() {
    return violations;
  }
}
