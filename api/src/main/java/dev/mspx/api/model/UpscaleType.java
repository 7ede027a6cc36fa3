package dev.mspx.api.model;

/** How a pixel group is generated inside one upscaling step (Reed et al. 2017, section 3). */
public enum UpscaleType {
  /** All pixels of a group in one parallel step; colour channels autoregressive. */
  A,
  /**
   * Pixels of a group generated patch by patch: within every M×M patch in raster order, all patches in
   * parallel, so a group takes M²·C steps instead of C.
   */
  B
}
