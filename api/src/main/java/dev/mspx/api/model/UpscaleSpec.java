package dev.mspx.api.model;

/** The values of an {@link Upscaling}. */
public record UpscaleSpec(int filters, int blocks, int headLayers, UpscaleType type, int patch) {

  /** Type A with two head layers, as in the reference configurations. */
  public static UpscaleSpec typeA(int filters, int blocks) {
    return new UpscaleSpec(filters, blocks, 2, UpscaleType.A, 0);
  }
}
