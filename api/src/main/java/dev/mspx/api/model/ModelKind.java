package dev.mspx.api.model;

/** Which of the two model families a spec describes. */
public enum ModelKind {
  /** The parallel multiscale PixelCNN: a base gated PixelCNN, then group nets per upscaling. */
  MULTISCALE,
  /** A full-resolution gated PixelCNN in raster order: the baseline. */
  RASTER
}
