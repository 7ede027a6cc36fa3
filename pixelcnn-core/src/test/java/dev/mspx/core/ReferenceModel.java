package dev.mspx.core;

import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import java.util.function.Function;

/**
 * The models of DESIGN.md written out layer by layer in float64, independently of the plan builder:
 * its own masks, its own loops, its own pyramid. Parameters come by name from a function, so a test
 * can feed it the plan's initial weights (or perturbed ones, for finite differences).
 */
final class ReferenceModel {

  private final ModelSpec spec;
  private final Function<String, float[]> params;
  private final String cond; // simple name of the class-label conditioning, or null

  ReferenceModel(ModelSpec spec, Function<String, float[]> params) {
    this.spec = spec;
    this.params = params;
    this.cond = spec.conditioning().isEmpty() ? null : spec.conditioning().get(0).simpleName();
  }

  /** A [C][H][W] feature map. */
  record Map3(int c, int h, int w, double[] v) {
    Map3(int c, int h, int w) {
      this(c, h, w, new double[c * h * w]);
    }

    double get(int ch, int y, int x) {
      return v[(ch * h + y) * w + x];
    }

    void set(int ch, int y, int x, double value) {
      v[(ch * h + y) * w + x] = value;
    }
  }

  static int colour(int unit, int units, int colours) {
    return (int) ((long) unit * colours / units);
  }

  /** Same-padded convolution with a mask given as a predicate on (out, in, ky, kx). */
  Map3 conv(String name, Map3 x, int out, int k, Mask mask) {
    float[] w = params.apply(name + ".weight");
    float[] b = params.apply(name + ".bias");
    Map3 y = new Map3(out, x.h(), x.w());
    int p = k / 2;
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < x.h(); i++) {
        for (int j = 0; j < x.w(); j++) {
          double acc = b[o];
          for (int c = 0; c < x.c(); c++) {
            for (int ky = 0; ky < k; ky++) {
              for (int kx = 0; kx < k; kx++) {
                int yi = i + ky - p, xj = j + kx - p;
                if (yi < 0 || yi >= x.h() || xj < 0 || xj >= x.w() || !mask.allows(o, c, ky, kx)) {
                  continue;
                }
                acc += w[((o * x.c() + c) * k + ky) * k + kx] * x.get(c, yi, xj);
              }
            }
          }
          y.set(o, i, j, acc);
        }
      }
    }
    return y;
  }

  interface Mask {
    boolean allows(int out, int in, int ky, int kx);
  }

  Map3 classBias(String name, Map3 x, int label) {
    if (cond == null) {
      return x;
    }
    float[] table = params.apply(name + "." + cond + ".table");
    Map3 y = new Map3(x.c(), x.h(), x.w(), x.v().clone());
    for (int c = 0; c < x.c(); c++) {
      for (int i = 0; i < x.h() * x.w(); i++) {
        y.v()[c * x.h() * x.w() + i] += table[label * x.c() + c];
      }
    }
    return y;
  }

  static Map3 relu(Map3 x) {
    double[] v = x.v().clone();
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.max(0, v[i]);
    }
    return new Map3(x.c(), x.h(), x.w(), v);
  }

  static Map3 add(Map3 a, Map3 b) {
    double[] v = a.v().clone();
    for (int i = 0; i < v.length; i++) {
      v[i] += b.v()[i];
    }
    return new Map3(a.c(), a.h(), a.w(), v);
  }

  static Map3 gate(Map3 pre) {
    int f = pre.c() / 2, hw = pre.h() * pre.w();
    Map3 out = new Map3(f, pre.h(), pre.w());
    for (int i = 0; i < f * hw; i++) {
      out.v()[i] = Math.tanh(pre.v()[i]) / (1 + Math.exp(-pre.v()[f * hw + i]));
    }
    return out;
  }

  Map3 scaled(int[][][] img) {
    int c = img.length, h = img[0].length, w = img[0][0].length;
    Map3 m = new Map3(c, h, w);
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < h; i++) {
        for (int j = 0; j < w; j++) {
          m.set(ch, i, j, img[ch][i][j] * 2.0 / (spec.levels() - 1) - 1);
        }
      }
    }
    return m;
  }

  /** The gated PixelCNN's logits [C·L][H][W] for an image [C][H][W]. */
  Map3 gated(String prefix, int[][][] img, int label) {
    int colours = spec.channels(), f = spec.gated().filters(), k = spec.gated().kernel(), p = k / 2;
    Map3 x = scaled(img);
    Map3 v = x, h = x;
    for (int l = 0; l < spec.gated().layers(); l++) {
      boolean first = l == 0;
      int in = first ? colours : f;
      String n = prefix + "layer" + l + ".";
      Map3 vPre = classBias(n + "vertical.cond", conv(n + "vertical", v, 2 * f, k, (o, i, ky, kx) -> first ? ky < p : ky <= p), label);
      Mask horizontal =
          (o, i, ky, kx) -> {
            if (ky != p || kx > p) {
              return false;
            }
            if (kx < p) {
              return true;
            }
            int co = colour(o % f, f, colours), ci = colour(i, in, colours);
            return first ? co > ci : co >= ci;
          };
      Map3 hPre = classBias(n + "horizontal.cond",
          add(conv(n + "horizontal", h, 2 * f, k, horizontal), conv(n + "vertical_to_horizontal", vPre, 2 * f, 1, (o, i, a, b) -> true)), label);
      Map3 hNew = conv(n + "horizontal.out", gate(hPre), f, 1, (o, i, a, b) -> colour(o, f, colours) >= colour(i, f, colours));
      h = first ? hNew : add(h, hNew);
      v = gate(vPre);
    }
    int cl = colours * spec.levels();
    Map3 o1 = conv(prefix + "out.hidden", relu(h), f, 1, (o, i, a, b) -> colour(o, f, colours) >= colour(i, f, colours));
    return conv(prefix + "out.logits", relu(o1), cl, 1, (o, i, a, b) -> colour(o, cl, colours) >= colour(i, f, colours));
  }

  /** A group net's logits from its context groups and own sub-pixels. */
  Map3 group(String prefix, int[][][] context, int[][][] own, int label) {
    int colours = spec.channels(), f = spec.upscaling().orElseThrow().filters();
    Map3 h = classBias(prefix + "stem.cond", conv(prefix + "stem", scaled(context), f, 3, (o, i, a, b) -> true), label);
    for (int blk = 0; blk < spec.upscaling().get().blocks(); blk++) {
      String n = prefix + "block" + blk + ".";
      Map3 t = classBias(n + "conv1.cond", conv(n + "conv1", relu(h), f, 3, (o, i, a, b) -> true), label);
      t = classBias(n + "conv2.cond", conv(n + "conv2", relu(t), f, 3, (o, i, a, b) -> true), label);
      h = add(h, t);
    }
    Map3 features = relu(h);
    Map3 ownScaled = scaled(own);
    Map3 in = new Map3(f + colours, h.h(), h.w());
    System.arraycopy(features.v(), 0, in.v(), 0, features.v().length);
    System.arraycopy(ownScaled.v(), 0, in.v(), features.v().length, ownScaled.v().length);
    Map3 hidden = relu(conv(prefix + "head.hidden0", in, f, 1,
        (o, i, a, b) -> i < f || colour(o, f, colours) > i - f));
    int cl = colours * spec.levels();
    return conv(prefix + "head.logits", hidden, cl, 1, (o, i, a, b) -> colour(o, cl, colours) >= colour(i, f, colours));
  }

  /** −log p(image) in nats: the sum over every network's softmax cross-entropy. */
  double nats(int[][][] img, int label) {
    if (spec.kind() == ModelKind.RASTER) {
      return crossEntropy(gated("raster.", img, label), img);
    }
    int size = spec.size(), b = spec.base();
    double total = crossEntropy(gated("base.", subsample(img, size / b, 0, 0), label), subsample(img, size / b, 0, 0));
    for (int k = 0; k < spec.upscalings(); k++) {
      int r = b << k, s = size / (2 * r);
      int[][][][] groups = new int[4][][][];
      for (int g = 0; g < 4; g++) {
        groups[g] = subsample(img, 2 * s, (g / 2) * s, (g % 2) * s);
      }
      for (int g = 2; g <= 4; g++) {
        int[][][] context = new int[spec.channels() * (g - 1)][][];
        for (int e = 0; e < g - 1; e++) {
          System.arraycopy(groups[e], 0, context, e * spec.channels(), spec.channels());
        }
        total += crossEntropy(group("up" + k + ".g" + g + ".", context, groups[g - 1], label), groups[g - 1]);
      }
    }
    return total;
  }

  static int[][][] subsample(int[][][] img, int stride, int dy, int dx) {
    int c = img.length, n = (img[0].length - dy + stride - 1) / stride;
    int[][][] out = new int[c][n][n];
    for (int ch = 0; ch < c; ch++) {
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          out[ch][i][j] = img[ch][dy + stride * i][dx + stride * j];
        }
      }
    }
    return out;
  }

  double crossEntropy(Map3 logits, int[][][] target) {
    int levels = spec.levels();
    double total = 0;
    for (int c = 0; c < target.length; c++) {
      for (int i = 0; i < logits.h(); i++) {
        for (int j = 0; j < logits.w(); j++) {
          double max = Double.NEGATIVE_INFINITY;
          for (int l = 0; l < levels; l++) {
            max = Math.max(max, logits.get(c * levels + l, i, j));
          }
          double s = 0;
          for (int l = 0; l < levels; l++) {
            s += Math.exp(logits.get(c * levels + l, i, j) - max);
          }
          total += max + Math.log(s) - logits.get(c * levels + target[c][i][j], i, j);
        }
      }
    }
    return total;
  }
}
