package dev.mspx.api.model;

import java.util.Locale;

/**
 * Every way a model declaration can be wrong, with its message: the one list of diagnostics, shared by
 * the annotation processor (which reports each on the annotation value that caused it) and by {@link
 * ModelSpec} (which refuses a spec made at run time with the same words).
 */
public enum SpecError {
  CHANNELS("channels must be 1 (grey) or 3 (RGB), got %s"),
  LEVELS("levels must lie in 2..256 (sub-pixels are uint8), got %s"),
  NOT_POSITIVE("%s must be at least 1, got %s"),
  FILTERS_BELOW_CHANNELS(
      "%s = %s is fewer than the %s colour channels: a colour would own no feature maps and its"
          + " predictions would see nothing; use at least %s"),
  SIZE_NOT_HALVING(
      "size %s does not halve down to base %s: size must be base·2^S with S >= 1 upscalings (for base %s:"
          + " %s)"),
  KERNEL_EVEN("kernel %s must be odd so that it has a centre tap"),
  KERNEL_TOO_LARGE(
      "kernel %s is too large for the %s×%s image it runs on: at most %s, so that half the kernel reaches no further than the image is wide"),
  PATCH_FOR_TYPE_A("patch %s is set but the upscaling type is A: set type = UpscaleType.B or drop patch"),
  PATCH_MISSING("type-B upscaling needs patch = M >= 1 dividing the base size %s"),
  PATCH_NOT_DIVIDING(
      "type-B patch %s does not divide %s, the side of every pixel group at the first upscaling"),
  CONDITIONING_NOT_SPI("%s does not implement dev.mspx.api.model.Conditioning"),
  CONDITIONING_UNDESCRIBED(
      "%s implements Conditioning but has no @ConditioningInput(kind = ..., width = ...)"),
  CONDITIONING_DUPLICATE("%s is listed more than once"),
  CONDITIONING_WIDTH("%s declares width %s; it must be at least 1"),
  CONDITIONING_SPATIAL(
      "%s is SPATIAL conditioning, which plans do not wire yet; use CLASS_LABEL or GLOBAL_VECTOR"),
  TWO_DECLARATIONS("%s carries both @MultiscaleModel and @RasterModel; a type declares one model"),
  NOT_ACCESSIBLE(
      "%s must be a top-level or static nested type, so that its plan can be generated beside it");

  private final String template;

  SpecError(String template) {
    this.template = template;
  }

  /** The message with its arguments, prefixed by the diagnostic's code: {@code [mspx.kernel-even] ...}. */
  public String format(Object... args) {
    return "[mspx." + name().toLowerCase(Locale.ROOT).replace('_', '-') + "] " + template.formatted(args);
  }
}
