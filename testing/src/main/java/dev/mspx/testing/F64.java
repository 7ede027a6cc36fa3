package dev.mspx.testing;

import dev.mspx.api.AdamOp;
import java.util.ArrayList;
import java.util.List;

/**
 * The suite's own float64 oracle for every op of {@link dev.mspx.api.Backend}: plain loops over
 * row-major {@code double[]}, written from the SPI's javadoc and nothing else, so that the suite
 * does not trust any implementation it checks (not even the scalar reference of {@code
 * backend-cpu}). Tensors are flat arrays; shapes travel as ints, activations as {@code [n, c, h,
 * w]}.
 *
 * <p>Backward ops are written as the literal adjoint of the forward loop (the same loop, scattering
 * instead of gathering), which keeps them obviously right; the suite still checks them against
 * finite differences.
 */
public final class F64 {

  private F64() {}

  private static int at(int n, int c, int h, int w, int channels, int height, int width) {
    return ((n * channels + c) * height + h) * width + w;
  }

  // ---------------------------------------------------------------- convolution

  /**
   * The weight actually convolved, {@code weight ⊙ mask}; the weight itself when mask is null.
   * Layout {@code [cout, cin, kh, kw]}.
   */
  public static double[] maskedWeight(double[] weight, double[] mask) {
    if (mask == null) {
      return weight;
    }
    double[] eff = new double[weight.length];
    for (int i = 0; i < weight.length; i++) {
      eff[i] = weight[i] * mask[i];
    }
    return eff;
  }

  /**
   * Stride-1 cross-correlation with "same" zero padding of {@code kh/2, kw/2}: {@code y[n,o,i,j] =
   * bias[o] + Σ_{c,a,b} x[n,c,i+a-kh/2,j+b-kw/2]·(w⊙mask)[o,c,a,b]}.
   */
  public static double[] conv2d(
      ConvGeometry g, double[] x, double[] weight, double[] mask, double[] bias) {
    double[] w = maskedWeight(weight, mask);
    double[] y = new double[g.n() * g.cout() * g.h() * g.w()];
    for (int n = 0; n < g.n(); n++) {
      for (int o = 0; o < g.cout(); o++) {
        for (int i = 0; i < g.h(); i++) {
          for (int j = 0; j < g.w(); j++) {
            double s = bias == null ? 0 : bias[o];
            for (int c = 0; c < g.cin(); c++) {
              for (int a = 0; a < g.kh(); a++) {
                int xi = i + a - g.kh() / 2;
                if (xi < 0 || xi >= g.h()) {
                  continue;
                }
                for (int b = 0; b < g.kw(); b++) {
                  int xj = j + b - g.kw() / 2;
                  if (xj < 0 || xj >= g.w()) {
                    continue;
                  }
                  s +=
                      x[at(n, c, xi, xj, g.cin(), g.h(), g.w())]
                          * w[at(o, c, a, b, g.cin(), g.kh(), g.kw())];
                }
              }
            }
            y[at(n, o, i, j, g.cout(), g.h(), g.w())] = s;
          }
        }
      }
    }
    return y;
  }

  /**
   * The adjoint of {@link #conv2d} in x: every output tap scatters {@code dy·w} back to its input.
   */
  public static double[] conv2dBackwardData(
      ConvGeometry g, double[] dy, double[] weight, double[] mask) {
    double[] w = maskedWeight(weight, mask);
    double[] dx = new double[g.n() * g.cin() * g.h() * g.w()];
    for (int n = 0; n < g.n(); n++) {
      for (int o = 0; o < g.cout(); o++) {
        for (int i = 0; i < g.h(); i++) {
          for (int j = 0; j < g.w(); j++) {
            double d = dy[at(n, o, i, j, g.cout(), g.h(), g.w())];
            for (int c = 0; c < g.cin(); c++) {
              for (int a = 0; a < g.kh(); a++) {
                int xi = i + a - g.kh() / 2;
                if (xi < 0 || xi >= g.h()) {
                  continue;
                }
                for (int b = 0; b < g.kw(); b++) {
                  int xj = j + b - g.kw() / 2;
                  if (xj < 0 || xj >= g.w()) {
                    continue;
                  }
                  dx[at(n, c, xi, xj, g.cin(), g.h(), g.w())] +=
                      d * w[at(o, c, a, b, g.cin(), g.kh(), g.kw())];
                }
              }
            }
          }
        }
      }
    }
    return dx;
  }

  /** The gradient of {@link #conv2d} in the weight, zero where the mask is zero. */
  public static double[] conv2dBackwardFilter(
      ConvGeometry g, double[] x, double[] dy, double[] mask) {
    double[] dw = new double[g.cout() * g.cin() * g.kh() * g.kw()];
    for (int n = 0; n < g.n(); n++) {
      for (int o = 0; o < g.cout(); o++) {
        for (int i = 0; i < g.h(); i++) {
          for (int j = 0; j < g.w(); j++) {
            double d = dy[at(n, o, i, j, g.cout(), g.h(), g.w())];
            for (int c = 0; c < g.cin(); c++) {
              for (int a = 0; a < g.kh(); a++) {
                int xi = i + a - g.kh() / 2;
                if (xi < 0 || xi >= g.h()) {
                  continue;
                }
                for (int b = 0; b < g.kw(); b++) {
                  int xj = j + b - g.kw() / 2;
                  if (xj < 0 || xj >= g.w()) {
                    continue;
                  }
                  dw[at(o, c, a, b, g.cin(), g.kh(), g.kw())] +=
                      d * x[at(n, c, xi, xj, g.cin(), g.h(), g.w())];
                }
              }
            }
          }
        }
      }
    }
    return maskedWeight(dw, mask);
  }

  /** The gradient of {@link #conv2d} in the bias: {@code dy} summed over n, h, w. */
  public static double[] conv2dBackwardBias(ConvGeometry g, double[] dy) {
    double[] db = new double[g.cout()];
    for (int n = 0; n < g.n(); n++) {
      for (int o = 0; o < g.cout(); o++) {
        for (int p = 0; p < g.h() * g.w(); p++) {
          db[o] += dy[(n * g.cout() + o) * g.h() * g.w() + p];
        }
      }
    }
    return db;
  }

  /** The sizes of one convolution call: batch, channels, spatial size, kernel. */
  public record ConvGeometry(int n, int cin, int cout, int h, int w, int kh, int kw) {}

  // ---------------------------------------------------------------- activations

  public static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  /** {@code out = tanh(pre[:, :f])·σ(pre[:, f:])} for pre {@code [n, 2f, h, w]}. */
  public static double[] gate(double[] pre, int n, int f, int hw) {
    double[] out = new double[n * f * hw];
    for (int s = 0; s < n; s++) {
      for (int c = 0; c < f; c++) {
        for (int p = 0; p < hw; p++) {
          double a = pre[(s * 2 * f + c) * hw + p];
          double b = pre[(s * 2 * f + f + c) * hw + p];
          out[(s * f + c) * hw + p] = Math.tanh(a) * sigmoid(b);
        }
      }
    }
    return out;
  }

  /** d(gate)/d(pre): {@code da = dout·(1-tanh²a)·σ(b)}, {@code db = dout·tanh(a)·σ(b)·(1-σ(b))}. */
  public static double[] gateBackward(double[] pre, double[] dout, int n, int f, int hw) {
    double[] dpre = new double[pre.length];
    for (int s = 0; s < n; s++) {
      for (int c = 0; c < f; c++) {
        for (int p = 0; p < hw; p++) {
          int ia = (s * 2 * f + c) * hw + p;
          int ib = (s * 2 * f + f + c) * hw + p;
          double t = Math.tanh(pre[ia]);
          double g = sigmoid(pre[ib]);
          double d = dout[(s * f + c) * hw + p];
          dpre[ia] = d * (1 - t * t) * g;
          dpre[ib] = d * t * g * (1 - g);
        }
      }
    }
    return dpre;
  }

  public static double[] relu(double[] x) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = Math.max(x[i], 0);
    }
    return y;
  }

  public static double[] reluBackward(double[] x, double[] dy) {
    double[] dx = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      dx[i] = x[i] > 0 ? dy[i] : 0;
    }
    return dx;
  }

  // ---------------------------------------------------------------- elementwise

  public static double[] add(double[] a, double[] b) {
    double[] out = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[i] + b[i];
    }
    return out;
  }

  public static double[] scale(double[] x, double alpha) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = alpha * x[i];
    }
    return out;
  }

  /** {@code out[n,c,h,w] = x[n,c,h,w] + bias[n,c]}. */
  public static double[] addChannelBias(double[] x, double[] bias, int nc, int hw) {
    double[] out = new double[x.length];
    for (int k = 0; k < nc; k++) {
      for (int p = 0; p < hw; p++) {
        out[k * hw + p] = x[k * hw + p] + bias[k];
      }
    }
    return out;
  }

  /** {@code out[n,c] = Σ_hw dy[n,c,h,w]}. */
  public static double[] sumSpatial(double[] dy, int nc, int hw) {
    double[] out = new double[nc];
    for (int k = 0; k < nc; k++) {
      for (int p = 0; p < hw; p++) {
        out[k] += dy[k * hw + p];
      }
    }
    return out;
  }

  /** {@code x·2/(L-1) - 1}: levels 0..L-1 onto [-1, 1]. */
  public static double[] dequantize(double[] x, int levels) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = x[i] * 2.0 / (levels - 1) - 1;
    }
    return out;
  }

  // ---------------------------------------------------------------- layout

  /** Concatenation along dim 1 of {@code [n, c_i, h, w]} parts. */
  public static double[] concatChannels(List<double[]> parts, int[] channels, int n, int hw) {
    int total = 0;
    for (int c : channels) {
      total += c;
    }
    double[] out = new double[n * total * hw];
    for (int s = 0; s < n; s++) {
      int base = 0;
      for (int k = 0; k < parts.size(); k++) {
        for (int c = 0; c < channels[k]; c++) {
          for (int p = 0; p < hw; p++) {
            out[(s * total + base + c) * hw + p] = parts.get(k)[(s * channels[k] + c) * hw + p];
          }
        }
        base += channels[k];
      }
    }
    return out;
  }

  /** The inverse of {@link #concatChannels}. */
  public static List<double[]> splitChannels(double[] in, int[] channels, int n, int hw) {
    int total = 0;
    for (int c : channels) {
      total += c;
    }
    List<double[]> parts = new ArrayList<>();
    int base = 0;
    for (int channel : channels) {
      double[] part = new double[n * channel * hw];
      for (int s = 0; s < n; s++) {
        for (int c = 0; c < channel; c++) {
          for (int p = 0; p < hw; p++) {
            part[(s * channel + c) * hw + p] = in[(s * total + base + c) * hw + p];
          }
        }
      }
      parts.add(part);
      base += channel;
    }
    return parts;
  }

  /**
   * {@code out[n, (dy·b + dx)·C + c, i, j] = x[n, c, b·i + dy, b·j + dx]}, x {@code [n, c, h, w]}:
   * the SPI's definition, so that channel block {@code dy·b + dx} is the pixel group at offset (dy,
   * dx).
   */
  public static double[] spaceToDepth(double[] x, int n, int c, int h, int w, int block) {
    int oh = h / block;
    int ow = w / block;
    int oc = c * block * block;
    double[] out = new double[x.length];
    for (int s = 0; s < n; s++) {
      for (int ch = 0; ch < c; ch++) {
        for (int dy = 0; dy < block; dy++) {
          for (int dx = 0; dx < block; dx++) {
            for (int i = 0; i < oh; i++) {
              for (int j = 0; j < ow; j++) {
                out[at(s, (dy * block + dx) * c + ch, i, j, oc, oh, ow)] =
                    x[at(s, ch, block * i + dy, block * j + dx, c, h, w)];
              }
            }
          }
        }
      }
    }
    return out;
  }

  /** The inverse of {@link #spaceToDepth}; {@code c, h, w} are the sizes of the space side. */
  public static double[] depthToSpace(double[] x, int n, int c, int h, int w, int block) {
    int oh = h / block;
    int ow = w / block;
    int oc = c * block * block;
    double[] out = new double[x.length];
    for (int s = 0; s < n; s++) {
      for (int ch = 0; ch < c; ch++) {
        for (int dy = 0; dy < block; dy++) {
          for (int dx = 0; dx < block; dx++) {
            for (int i = 0; i < oh; i++) {
              for (int j = 0; j < ow; j++) {
                out[at(s, ch, block * i + dy, block * j + dx, c, h, w)] =
                    x[at(s, (dy * block + dx) * c + ch, i, j, oc, oh, ow)];
              }
            }
          }
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- likelihood and sampling

  /** The L logits of sub-pixel (s, c, p) of logits {@code [n, c·L, h·w]}, channel-major. */
  private static double[] logitsOf(
      double[] logits, int s, int c, int p, int channels, int levels, int hw) {
    double[] z = new double[levels];
    for (int l = 0; l < levels; l++) {
      z[l] = logits[((s * channels + c) * levels + l) * hw + p];
    }
    return z;
  }

  private static double logSumExp(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double s = 0;
    for (double v : z) {
      s += Math.exp(v - max);
    }
    return max + Math.log(s);
  }

  /** {@code nll = logsumexp(z) - z[target]} per sub-pixel; targets {@code [n, c, h·w]}. */
  public static double[] softmaxCrossEntropy(
      double[] logits, double[] targets, int n, int channels, int levels, int hw) {
    double[] nll = new double[n * channels * hw];
    for (int s = 0; s < n; s++) {
      for (int c = 0; c < channels; c++) {
        for (int p = 0; p < hw; p++) {
          double[] z = logitsOf(logits, s, c, p, channels, levels, hw);
          int k = (s * channels + c) * hw + p;
          nll[k] = logSumExp(z) - z[(int) targets[k]];
        }
      }
    }
    return nll;
  }

  /** {@code dlogits = dnll·(softmax(z) - onehot(target))}. */
  public static double[] softmaxCrossEntropyBackward(
      double[] logits, double[] targets, double[] dnll, int n, int channels, int levels, int hw) {
    double[] dlogits = new double[logits.length];
    for (int s = 0; s < n; s++) {
      for (int c = 0; c < channels; c++) {
        for (int p = 0; p < hw; p++) {
          double[] z = logitsOf(logits, s, c, p, channels, levels, hw);
          double lse = logSumExp(z);
          int k = (s * channels + c) * hw + p;
          for (int l = 0; l < levels; l++) {
            double onehot = l == (int) targets[k] ? 1 : 0;
            dlogits[((s * channels + c) * levels + l) * hw + p] =
                dnll[k] * (Math.exp(z[l] - lse) - onehot);
          }
        }
      }
    }
    return dlogits;
  }

  /**
   * The cumulative distribution {@code cdf[l] = Σ_{k≤l} softmax(z)_k} of every sub-pixel, flattened
   * as {@code [n, c, h·w, L]}.
   */
  public static double[] categoricalCdf(double[] logits, int n, int channels, int levels, int hw) {
    double[] cdf = new double[n * channels * hw * levels];
    for (int s = 0; s < n; s++) {
      for (int c = 0; c < channels; c++) {
        for (int p = 0; p < hw; p++) {
          double[] z = logitsOf(logits, s, c, p, channels, levels, hw);
          double lse = logSumExp(z);
          int k = (s * channels + c) * hw + p;
          double acc = 0;
          for (int l = 0; l < levels; l++) {
            acc += Math.exp(z[l] - lse);
            cdf[k * levels + l] = acc;
          }
        }
      }
    }
    return cdf;
  }

  /**
   * Inverse-CDF sampling: {@code min { l : cdf[l] > u }}, or L-1 when rounding leaves the last
   * cumulative value at or below u.
   */
  public static double[] sampleCategorical(double[] cdf, double[] uniforms, int levels) {
    double[] out = new double[uniforms.length];
    for (int k = 0; k < uniforms.length; k++) {
      int l = 0;
      while (l < levels - 1 && !(cdf[k * levels + l] > uniforms[k])) {
        l++;
      }
      out[k] = l;
    }
    return out;
  }

  // ---------------------------------------------------------------- dense

  /** {@code out[i] = table[indices[i]]}, table {@code [v, d]}. */
  public static double[] embeddingLookup(double[] table, double[] indices, int d) {
    double[] out = new double[indices.length * d];
    for (int i = 0; i < indices.length; i++) {
      System.arraycopy(table, (int) indices[i] * d, out, i * d, d);
    }
    return out;
  }

  /** {@code dtable[v] = Σ_{i: indices[i]=v} dout[i]}; rows no index names stay 0. */
  public static double[] embeddingBackward(double[] indices, double[] dout, int v, int d) {
    double[] dtable = new double[v * d];
    for (int i = 0; i < indices.length; i++) {
      int row = (int) indices[i];
      for (int k = 0; k < d; k++) {
        dtable[row * d + k] += dout[i * d + k];
      }
    }
    return dtable;
  }

  /**
   * {@code op(a)·op(b)} with a stored {@code [aRows, aCols]} and b {@code [bRows, bCols]}, op
   * transposing when its flag is set.
   */
  public static double[] matmul(
      double[] a,
      int aRows,
      int aCols,
      boolean transposeA,
      double[] b,
      int bRows,
      int bCols,
      boolean transposeB) {
    int m = transposeA ? aCols : aRows;
    int k = transposeA ? aRows : aCols;
    int n = transposeB ? bRows : bCols;
    double[] out = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int t = 0; t < k; t++) {
          double av = transposeA ? a[t * aCols + i] : a[i * aCols + t];
          double bv = transposeB ? b[j * bCols + t] : b[t * bCols + j];
          s += av * bv;
        }
        out[i * n + j] = s;
      }
    }
    return out;
  }

  public static double sum(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v;
    }
    return s;
  }

  public static double sumOfSquares(double[] x) {
    double s = 0;
    for (double v : x) {
      s += v * v;
    }
    return s;
  }

  /**
   * {@code Σ r·y}: the scalar loss whose gradient a backward op computes for upstream gradient r.
   */
  public static double dot(double[] r, double[] y) {
    double s = 0;
    for (int i = 0; i < r.length; i++) {
      s += r[i] * y[i];
    }
    return s;
  }

  // ---------------------------------------------------------------- optimiser

  /**
   * One Adam step in place on {@code param}, {@code m}, {@code v}, as {@link AdamOp} states it:
   * {@code m = b1·m + (1-b1)·g}, {@code v = b2·v + (1-b2)·g²}, {@code p -= lr·(m/(1-b1^t)) /
   * (sqrt(v/(1-b2^t)) + eps)}.
   */
  public static void adamStep(
      AdamOp op, long step, double[] param, double[] grad, double[] m, double[] v) {
    double c1 = 1 - Math.pow(op.beta1(), step);
    double c2 = 1 - Math.pow(op.beta2(), step);
    for (int i = 0; i < param.length; i++) {
      m[i] = op.beta1() * m[i] + (1 - op.beta1()) * grad[i];
      v[i] = op.beta2() * v[i] + (1 - op.beta2()) * grad[i] * grad[i];
      param[i] -= op.learningRate() * (m[i] / c1) / (Math.sqrt(v[i] / c2) + op.epsilon());
    }
  }
}
