package dev.mspx.api.plan;

/**
 * The named helpers that decide what every masked layer may see (DESIGN.md section 6, "Exact
 * choices"). Every mask of every plan is one of these; the property tests and the mutants of the test
 * kit are written against them.
 */
public final class Masks {

  private Masks() {}

  /**
   * The colour (0..colours-1) owning each of {@code units} feature maps: contiguous blocks, unit i
   * belongs to colour {@code floor(i·colours/units)}. For logits ({@code units = C·L}) that is {@code
   * i / L}; for the image itself it is the channel.
   */
  public static int[] colourGroups(int units, int colours) {
    int[] g = new int[units];
    for (int i = 0; i < units; i++) {
      g[i] = (int) ((long) i * colours / units);
    }
    return g;
  }

  /**
   * Connections allowed at a pixel's own position: output of colour c sees inputs of colour {@code < c}
   * (strict: mask A) or {@code <= c} (mask B).
   */
  public static boolean allowed(int outColour, int inColour, boolean strict) {
    return strict ? outColour > inColour : outColour >= inColour;
  }

  /**
   * The vertical stack's {@code k×k} taps: the rows strictly above the centre in the first layer (it
   * sees the image), the rows up to and including the centre later (it sees vertical features, which
   * only ever depend on rows above).
   */
  public static float[] verticalStack(int out, int in, int k, boolean first) {
    float[] m = new float[out * in * k * k];
    int rows = first ? k / 2 : k / 2 + 1;
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        for (int y = 0; y < rows; y++) {
          for (int x = 0; x < k; x++) {
            m[((o * in + i) * k + y) * k + x] = 1;
          }
        }
      }
    }
    return m;
  }

  /**
   * The horizontal stack's taps: the centre row left of the centre, plus the centre tap under the
   * colour mask (strict in the first layer). Outputs are the two gate halves, each grouped by colour.
   */
  public static float[] horizontalStack(int out, int in, int k, boolean first, int colours) {
    float[] m = new float[out * in * k * k];
    int[] gOut = gateHalves(out, colours);
    int[] gIn = colourGroups(in, colours);
    int c = k / 2;
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        for (int x = 0; x < c; x++) {
          m[((o * in + i) * k + c) * k + x] = 1;
        }
        m[((o * in + i) * k + c) * k + c] = allowed(gOut[o], gIn[i], first) ? 1 : 0;
      }
    }
    return m;
  }

  /** The colour groups of a gate's pre-activation: the tanh half and the sigmoid half, each grouped. */
  static int[] gateHalves(int units, int colours) {
    int half = units / 2;
    int[] g = colourGroups(half, colours);
    int[] both = new int[units];
    System.arraycopy(g, 0, both, 0, half);
    System.arraycopy(g, 0, both, half, half);
    return both;
  }

  /** A 1×1 colour mask between feature maps grouped by {@link #colourGroups}. */
  public static float[] colour(int out, int in, int colours, boolean strict) {
    int[] gOut = colourGroups(out, colours);
    int[] gIn = colourGroups(in, colours);
    float[] m = new float[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        m[o * in + i] = allowed(gOut[o], gIn[i], strict) ? 1 : 0;
      }
    }
    return m;
  }

  /**
   * The first head layer of a group net, over {@code [trunk features, own sub-pixels]}: every output
   * sees all trunk features (they depend only on earlier groups); output of colour c sees own channels
   * {@code < c} only. With one colour the own pixel is masked out entirely.
   */
  public static float[] headInput(int out, int features, int colours) {
    int in = features + colours;
    int[] gOut = colourGroups(out, colours);
    float[] m = new float[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < features; i++) {
        m[o * in + i] = 1;
      }
      for (int c = 0; c < colours; c++) {
        m[o * in + features + c] = allowed(gOut[o], c, true) ? 1 : 0;
      }
    }
    return m;
  }

  /**
   * The own-pixel layer of a type-B group head, a 1×1 convolution between space-to-depth layouts of
   * block M (the {@code M×M} patches of the group grid, {@link dev.mspx.api.Backend#spaceToDepth}'s
   * channel order): input channel {@code (u·M + v)·C + c} is own sub-pixel c at position (u, v) of its
   * patch; output unit {@code (u·M + v)·W + w} feeds head unit w (colour {@code colourGroups(W, C)[w]})
   * of the pixel at (u, v). An output sees every channel of the earlier positions of its patch in raster
   * order, and own channels {@code < c} at its own position; never a later position. With M = 1 this is
   * {@link #headInput}'s own-pixel part.
   */
  public static float[] patch(int width, int colours, int patch) {
    int positions = patch * patch, out = width * positions, in = colours * positions;
    int[] groups = colourGroups(width, colours);
    float[] m = new float[out * in];
    for (int o = 0; o < out; o++) {
      int po = o / width, co = groups[o % width];
      for (int i = 0; i < in; i++) {
        int pi = i / colours, ci = i % colours;
        m[o * in + i] = pi < po || (pi == po && allowed(co, ci, true)) ? 1 : 0;
      }
    }
    return m;
  }

  /**
   * The fan-in of a masked weight for initialisation: input channels × taps inside the bounding box of
   * the taps that any (out, in) pair uses.
   */
  public static int fanIn(float[] mask, int out, int in, int kh, int kw) {
    int r0 = kh, r1 = -1, c0 = kw, c1 = -1;
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        for (int y = 0; y < kh; y++) {
          for (int x = 0; x < kw; x++) {
            if (mask[((o * in + i) * kh + y) * kw + x] != 0) {
              r0 = Math.min(r0, y);
              r1 = Math.max(r1, y);
              c0 = Math.min(c0, x);
              c1 = Math.max(c1, x);
            }
          }
        }
      }
    }
    if (r1 < 0) {
      return in; // a mask with no tap at all: keep the bound finite
    }
    return in * (r1 - r0 + 1) * (c1 - c0 + 1);
  }
}
