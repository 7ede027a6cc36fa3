package dev.mspx.api.model;

/**
 * One broken rule: which rule, on which attribute of the declaration ({@code size}, {@code
 * baseNet.kernel}, {@code upscaling.patch}, {@code conditioning}), and the full message.
 */
public record SpecViolation(SpecError error, String attribute, String message) {

  public static SpecViolation of(SpecError error, String attribute, Object... args) {
    return new SpecViolation(error, attribute, error.format(args));
  }

  @Override
  public String toString() {
    return attribute + ": " + message;
  }
}
