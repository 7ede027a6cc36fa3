package dev.mspx.testing.masking;

import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;

/**
 * Which sub-pixels the prediction of a sub-pixel depends on, as DESIGN.md sections 1 and 6 and the
 * PyTorch peer's {@code gated_receptive_field_check} and {@code group_receptive_field_check} define
 * it. Positions are full-image (channel, row, column).
 *
 * <ul>
 *   <li><b>Gated net</b> (the raster model, or the base of a multiscale one, on its own grid) with n
 *       layers of kernel k, reach {@code R = n·(k/2)}: the sub-pixel (c, i, j) sees every channel of
 *       rows {@code i-R..i-1} × columns {@code j-R..j+R}, of row i at columns {@code j-R..j-1}, and
 *       the channels {@code < c} of its own pixel. Nothing else.
 *   <li><b>Group net</b> g of upscaling r → 2r with B residual blocks, reach {@code 1 + 2B} (a 3×3
 *       stem, two 3×3 convolutions per block): the sub-pixel (c, i, j) of group g, in the r×r grid of
 *       the groups, sees every channel of the earlier groups {@code G1..G(g-1)} of that upscaling
 *       within the reach (Chebyshev distance), and the channels {@code < c} of its own pixel. Nothing
 *       else: not the other pixels of its own group, not the later groups, not the finer scales. With
 *       type-B upscaling over M×M patches it also sees every channel of the pixels of its own patch
 *       (the group grid cut into M×M blocks) that come before it in raster order inside the patch.
 * </ul>
 */
public final class ReceptiveField {

  /**
   * Where a full-image pixel is predicted: by the gated net ({@code scale = -1}, {@code group = 1}) at
   * (i, j) of the base grid, or by the net of group {@code group} of upscaling {@code scale} at (i, j)
   * of the group grid.
   */
  public record Site(int scale, int group, int i, int j) {
    public boolean gated() {
      return scale < 0;
    }

    @Override
    public String toString() {
      return gated() ? "gated net at (" + i + ", " + j + ")" : "group G" + group + " of upscaling " + scale + " at (" + i + ", " + j + ")";
    }
  }

  private final ModelSpec spec;

  public ReceptiveField(ModelSpec spec) {
    this.spec = spec;
  }

  /** The reach of the gated net, in pixels of its grid. */
  public int gatedReach() {
    return spec.gated().layers() * (spec.gated().kernel() / 2);
  }

  /** The reach of every group net, in pixels of the group grid. */
  public int groupReach() {
    return 1 + 2 * spec.upscaling().map(u -> u.blocks()).orElse(0);
  }

  /** The patch side M of type-B upscaling (its own pixel's earlier patch pixels are seen); 1 for type A. */
  public int patch() {
    return spec.upscaling().map(u -> u.type() == dev.mspx.api.model.UpscaleType.B ? u.patch() : 1).orElse(1);
  }

  /** Side of one pixel of the base grid, in full-image pixels. */
  private int baseStride() {
    return spec.size() / spec.base();
  }

  /** Where full-image pixel (y, x) is predicted. */
  public Site site(int y, int x) {
    int stride = baseStride();
    if (y % stride == 0 && x % stride == 0) {
      return new Site(-1, 1, y / stride, x / stride);
    }
    for (int k = spec.upscalings() - 1; k >= 0; k--) {
      Site s = atScale(k, y, x);
      if (s != null && s.group() > 1) {
        return s;
      }
    }
    throw new AssertionError("(" + y + ", " + x + ") belongs to no scale of " + spec);
  }

  /**
   * Full-image pixel (y, x) seen at upscaling k (r = base·2^k → 2r): its group 1..4 and position in
   * the r×r group grid, or null when it is not a pixel of x_{2r}.
   */
  public Site atScale(int k, int y, int x) {
    int r = spec.base() << k, s = spec.size() / (2 * r);
    if (y % s != 0 || x % s != 0) {
      return null;
    }
    int yy = y / s, xx = x / s;
    return new Site(k, 1 + 2 * (yy % 2) + xx % 2, yy / 2, xx / 2);
  }

  /**
   * Whether the logits of sub-pixel (pc, py, px) must depend on sub-pixel (qc, qy, qx) — true exactly
   * inside the receptive field, which only ever holds sub-pixels generated earlier.
   */
  public boolean reaches(int pc, int py, int px, int qc, int qy, int qx) {
    Site p = site(py, px);
    if (p.gated()) {
      int stride = baseStride();
      if (qy % stride != 0 || qx % stride != 0) {
        return false;
      }
      int i = qy / stride, j = qx / stride, reach = gatedReach();
      if (i < p.i()) {
        return i >= p.i() - reach && Math.abs(j - p.j()) <= reach;
      }
      if (i == p.i() && j < p.j()) {
        return j >= p.j() - reach;
      }
      return i == p.i() && j == p.j() && qc < pc;
    }
    Site q = atScale(p.scale(), qy, qx);
    if (q == null || q.group() > p.group()) {
      return false;
    }
    if (q.group() == p.group()) {
      if (q.i() == p.i() && q.j() == p.j()) {
        return qc < pc;
      }
      // Type B: every channel of the earlier pixels of the same M×M patch, in raster order.
      int m = patch();
      return q.i() / m == p.i() / m && q.j() / m == p.j() / m
          && (q.i() % m) * m + q.j() % m < (p.i() % m) * m + p.j() % m;
    }
    return Math.max(Math.abs(q.i() - p.i()), Math.abs(q.j() - p.j())) <= groupReach();
  }

  /** What {@link #reaches} says, in words, for failure messages. */
  public String rule(int pc, int py, int px) {
    Site p = site(py, px);
    if (p.gated()) {
      int r = gatedReach();
      return (spec.kind() == ModelKind.RASTER ? "raster" : "base") + " gated net, reach " + r
          + ": every channel of rows i-" + r + "..i-1 x columns j-" + r + "..j+" + r + ", of row i at columns j-" + r
          + "..j-1, and own channels < " + pc;
    }
    String earlier = p.group() == 2 ? "G1" : "G1..G" + (p.group() - 1);
    String patch = patch() == 1 ? "; not its own group's other pixels"
        : ", every channel of the earlier pixels (raster order) of its own " + patch() + "x" + patch() + " patch of the group; not the patch's later pixels, not other patches";
    return "group net G" + p.group() + ": every channel of " + earlier + " of upscaling " + p.scale() + " within "
        + groupReach() + " pixels of the group grid, and own channels < " + pc + patch + ", not later groups";
  }
}
