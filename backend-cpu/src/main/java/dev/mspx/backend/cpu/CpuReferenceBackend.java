package dev.mspx.backend.cpu;

import dev.mspx.api.AbstractBackend;
import dev.mspx.api.AdamOp;
import dev.mspx.api.Conv2dOp;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

/**
 * The scalar reference backend: every op as plain loops over flat arrays, accumulating in double. It
 * is the oracle of the conformance suite and of every faster kernel, so clarity wins over speed here:
 * each kernel reads its inputs into arrays, computes the formula of the SPI's javadoc directly, and
 * writes every output element.
 *
 * <p>Its tensors are {@link HostTensor}s in an Arrow-backed {@link HostMemory}; ops run synchronously.
 */
public final class CpuReferenceBackend extends AbstractBackend {

  private final String name;
  private final HostMemory memory;

  public CpuReferenceBackend() {
    this("cpu-reference");
  }

  public CpuReferenceBackend(String name) {
    this.name = name;
    this.memory = HostMemory.create(name);
  }

  @Override
  public String name() {
    return name;
  }

  // ---------------------------------------------------------------- memory

  @Override
  public Tensor allocate(Shape shape, DType dtype, String label) {
    return memory.allocate(shape, dtype, label, this);
  }

  @Override
  public Workspace workspace(long bytes, String label) {
    return CpuWorkspace.allocate(memory, bytes, label, this);
  }

  @Override
  public Optional<HostTensor> hostView(Tensor tensor) {
    return tensor.owner() == this ? Optional.of((HostTensor) tensor) : Optional.empty();
  }

  @Override
  public long outstandingBytes() {
    return memory.outstandingBytes();
  }

  @Override
  public void synchronize() {
    // Every op has finished when it returns.
  }

  @Override
  public void close() {
    memory.close();
  }

  @Override
  protected void doCopyFromHost(HostTensor src, Tensor dst) {
    MemorySegment.copy(src.segment(), 0, seg(dst), 0, src.byteSize());
  }

  @Override
  protected void doCopyToHost(Tensor src, HostTensor dst) {
    MemorySegment.copy(seg(src), 0, dst.segment(), 0, dst.byteSize());
  }

  private static MemorySegment seg(Tensor t) {
    return ((HostTensor) t).segment();
  }

  private static float[] read(Tensor t) {
    return ((HostTensor) t).toFloatArray();
  }

  private static void write(Tensor t, float[] v) {
    ((HostTensor) t).copyFrom(v);
  }

  private static void write(Tensor t, double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    write(t, f);
  }

  /** The weight as the convolution sees it: {@code w ⊙ mask}. */
  private static float[] maskedWeight(Tensor w, Tensor mask) {
    float[] wv = read(w);
    if (mask != null) {
      float[] m = read(mask);
      for (int i = 0; i < wv.length; i++) {
        wv[i] *= m[i];
      }
    }
    return wv;
  }

  // ---------------------------------------------------------------- convolution

  @Override
  protected void doConv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y) {
    int n = x.shape().dim(0), ci = op.inChannels(), co = op.outChannels();
    int h = x.shape().dim(2), wd = x.shape().dim(3), kh = op.kernelHeight(), kw = op.kernelWidth();
    int ph = op.padHeight(), pw = op.padWidth();
    float[] xv = read(x), wv = maskedWeight(w, mask), bv = bias == null ? null : read(bias);
    double[] out = new double[n * co * h * wd];
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < co; o++) {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < wd; j++) {
            double acc = bv == null ? 0 : bv[o];
            for (int c = 0; c < ci; c++) {
              for (int dy = 0; dy < kh; dy++) {
                int yi = i + dy - ph;
                if (yi < 0 || yi >= h) {
                  continue;
                }
                for (int dx = 0; dx < kw; dx++) {
                  int xj = j + dx - pw;
                  if (xj < 0 || xj >= wd) {
                    continue;
                  }
                  acc += (double) xv[((b * ci + c) * h + yi) * wd + xj] * wv[((o * ci + c) * kh + dy) * kw + dx];
                }
              }
            }
            out[((b * co + o) * h + i) * wd + j] = acc;
          }
        }
      }
    }
    write(y, out);
  }

  @Override
  protected void doConv2dBackwardData(Conv2dOp op, Tensor dy, Tensor w, Tensor mask, Tensor dx) {
    int n = dy.shape().dim(0), ci = op.inChannels(), co = op.outChannels();
    int h = dy.shape().dim(2), wd = dy.shape().dim(3), kh = op.kernelHeight(), kw = op.kernelWidth();
    int ph = op.padHeight(), pw = op.padWidth();
    float[] g = read(dy), wv = maskedWeight(w, mask);
    double[] out = new double[n * ci * h * wd];
    // Scatter form of the chain rule: each output gradient flows back along the taps that made it.
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < co; o++) {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < wd; j++) {
            double gy = g[((b * co + o) * h + i) * wd + j];
            for (int c = 0; c < ci; c++) {
              for (int ky = 0; ky < kh; ky++) {
                int yi = i + ky - ph;
                if (yi < 0 || yi >= h) {
                  continue;
                }
                for (int kx = 0; kx < kw; kx++) {
                  int xj = j + kx - pw;
                  if (xj < 0 || xj >= wd) {
                    continue;
                  }
                  out[((b * ci + c) * h + yi) * wd + xj] += gy * wv[((o * ci + c) * kh + ky) * kw + kx];
                }
              }
            }
          }
        }
      }
    }
    write(dx, out);
  }

  @Override
  protected void doConv2dBackwardFilter(
      Conv2dOp op, Tensor x, Tensor dy, Tensor mask, Tensor dw, Tensor dbias) {
    int n = x.shape().dim(0), ci = op.inChannels(), co = op.outChannels();
    int h = x.shape().dim(2), wd = x.shape().dim(3), kh = op.kernelHeight(), kw = op.kernelWidth();
    int ph = op.padHeight(), pw = op.padWidth();
    float[] xv = read(x), g = read(dy), m = mask == null ? null : read(mask);
    double[] gw = new double[co * ci * kh * kw];
    double[] gb = new double[co];
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < co; o++) {
        for (int i = 0; i < h; i++) {
          for (int j = 0; j < wd; j++) {
            double gy = g[((b * co + o) * h + i) * wd + j];
            gb[o] += gy;
            for (int c = 0; c < ci; c++) {
              for (int ky = 0; ky < kh; ky++) {
                int yi = i + ky - ph;
                if (yi < 0 || yi >= h) {
                  continue;
                }
                for (int kx = 0; kx < kw; kx++) {
                  int xj = j + kx - pw;
                  if (xj < 0 || xj >= wd) {
                    continue;
                  }
                  gw[((o * ci + c) * kh + ky) * kw + kx] += gy * xv[((b * ci + c) * h + yi) * wd + xj];
                }
              }
            }
          }
        }
      }
    }
    if (m != null) {
      for (int k = 0; k < gw.length; k++) {
        gw[k] *= m[k];
      }
    }
    write(dw, gw);
    if (dbias != null) {
      write(dbias, gb);
    }
  }

  // ---------------------------------------------------------------- activations

  private static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  @Override
  protected void doGate(Tensor pre, Tensor out) {
    float[] p = read(pre);
    Shape s = out.shape();
    int n = s.dim(0), f = s.dim(1), hw = s.dim(2) * s.dim(3);
    float[] o = new float[n * f * hw];
    for (int b = 0; b < n; b++) {
      for (int c = 0; c < f; c++) {
        for (int k = 0; k < hw; k++) {
          double a = p[(b * 2 * f + c) * hw + k], g = p[(b * 2 * f + f + c) * hw + k];
          o[(b * f + c) * hw + k] = (float) (Math.tanh(a) * sigmoid(g));
        }
      }
    }
    write(out, o);
  }

  @Override
  protected void doGateBackward(Tensor pre, Tensor dout, Tensor dpre) {
    float[] p = read(pre), d = read(dout);
    Shape s = dout.shape();
    int n = s.dim(0), f = s.dim(1), hw = s.dim(2) * s.dim(3);
    float[] o = new float[p.length];
    for (int b = 0; b < n; b++) {
      for (int c = 0; c < f; c++) {
        for (int k = 0; k < hw; k++) {
          int ia = (b * 2 * f + c) * hw + k, ig = (b * 2 * f + f + c) * hw + k;
          double t = Math.tanh(p[ia]), sg = sigmoid(p[ig]), g = d[(b * f + c) * hw + k];
          o[ia] = (float) (g * sg * (1 - t * t));
          o[ig] = (float) (g * t * sg * (1 - sg));
        }
      }
    }
    write(dpre, o);
  }

  @Override
  protected void doRelu(Tensor x, Tensor y) {
    float[] v = read(x);
    for (int i = 0; i < v.length; i++) {
      v[i] = v[i] > 0 ? v[i] : 0f;
    }
    write(y, v);
  }

  @Override
  protected void doReluBackward(Tensor x, Tensor dy, Tensor dx) {
    float[] v = read(x), g = read(dy);
    for (int i = 0; i < v.length; i++) {
      g[i] = v[i] > 0 ? g[i] : 0f;
    }
    write(dx, g);
  }

  // ---------------------------------------------------------------- elementwise

  @Override
  protected void doAdd(Tensor a, Tensor b, Tensor out) {
    float[] av = read(a), bv = read(b);
    for (int i = 0; i < av.length; i++) {
      av[i] += bv[i];
    }
    write(out, av);
  }

  @Override
  protected void doScale(Tensor x, double alpha, Tensor out) {
    float[] v = read(x);
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (alpha * v[i]);
    }
    write(out, v);
  }

  @Override
  protected void doAddChannelBias(Tensor x, Tensor bias, Tensor out) {
    float[] v = read(x), bv = read(bias);
    int nc = bv.length, hw = v.length / nc;
    for (int k = 0; k < nc; k++) {
      for (int p = 0; p < hw; p++) {
        v[k * hw + p] += bv[k];
      }
    }
    write(out, v);
  }

  @Override
  protected void doSumSpatial(Tensor dy, Tensor out) {
    float[] g = read(dy);
    int nc = Math.toIntExact(out.shape().elements()), hw = g.length / nc;
    double[] s = new double[nc];
    for (int k = 0; k < nc; k++) {
      for (int p = 0; p < hw; p++) {
        s[k] += g[k * hw + p];
      }
    }
    write(out, s);
  }

  @Override
  protected void doDequantize(Tensor x, int levels, Tensor out) {
    byte[] v = ((HostTensor) x).toByteArray();
    float[] o = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      o[i] = (float) (Byte.toUnsignedInt(v[i]) * 2.0 / (levels - 1) - 1.0);
    }
    write(out, o);
  }

  // ---------------------------------------------------------------- layout

  /** Channels of one sample are contiguous: {@code C·H·W} elements at {@code n·C·H·W}. */
  @Override
  protected void doConcatChannels(List<Tensor> parts, Tensor out) {
    int n = out.shape().dim(0);
    long outSample = out.byteSize() / n, offset = 0;
    for (Tensor p : parts) {
      long partSample = p.byteSize() / n;
      for (int b = 0; b < n; b++) {
        MemorySegment.copy(seg(p), b * partSample, seg(out), b * outSample + offset, partSample);
      }
      offset += partSample;
    }
  }

  @Override
  protected void doSplitChannels(Tensor in, List<Tensor> parts) {
    int n = in.shape().dim(0);
    long inSample = in.byteSize() / n, offset = 0;
    for (Tensor p : parts) {
      long partSample = p.byteSize() / n;
      for (int b = 0; b < n; b++) {
        MemorySegment.copy(seg(in), b * inSample + offset, seg(p), b * partSample, partSample);
      }
      offset += partSample;
    }
  }

  @Override
  protected void doSpaceToDepth(Tensor x, int block, Tensor out) {
    rearrange(x, out, block, true);
  }

  @Override
  protected void doDepthToSpace(Tensor x, int block, Tensor out) {
    rearrange(out, x, block, false);
  }

  /**
   * Moves elements between {@code space [N, C, H, W]} and {@code depth [N, b²C, H/b, W/b]}, element
   * by element in the dtype's width: {@code depth[n, (dy·b+dx)·C + c, i, j] = space[n, c, b·i+dy, b·j+dx]}.
   */
  private static void rearrange(Tensor space, Tensor depth, int b, boolean toDepth) {
    Shape s = space.shape();
    int n = s.dim(0), c = s.dim(1), h = s.dim(2), w = s.dim(3), hb = h / b, wb = w / b;
    long es = space.dtype().byteSize();
    MemorySegment sp = seg(space), dp = seg(depth);
    for (int bn = 0; bn < n; bn++) {
      for (int dy = 0; dy < b; dy++) {
        for (int dx = 0; dx < b; dx++) {
          for (int ch = 0; ch < c; ch++) {
            int dc = (dy * b + dx) * c + ch;
            for (int i = 0; i < hb; i++) {
              for (int j = 0; j < wb; j++) {
                long si = (((long) bn * c + ch) * h + (long) b * i + dy) * w + (long) b * j + dx;
                long di = (((long) bn * b * b * c + dc) * hb + i) * wb + j;
                if (toDepth) {
                  MemorySegment.copy(sp, si * es, dp, di * es, es);
                } else {
                  MemorySegment.copy(dp, di * es, sp, si * es, es);
                }
              }
            }
          }
        }
      }
    }
  }

  @Override
  protected void doCopy(Tensor src, Tensor dst) {
    MemorySegment.copy(seg(src), 0, seg(dst), 0, src.byteSize());
  }

  @Override
  protected void doFill(Tensor t, double value) {
    HostTensor h = (HostTensor) t;
    for (long i = 0; i < t.shape().elements(); i++) {
      h.setFromDouble(i, value);
    }
  }

  // ---------------------------------------------------------------- likelihood and sampling

  /** Visits every sub-pixel {@code (n, c, p)} with the flat indices of its L logits. */
  private interface SubpixelVisitor {
    void visit(int subpixel, int firstLogit, int stride);
  }

  private static void forEachSubpixel(Tensor logits, Tensor subpixels, SubpixelVisitor v) {
    Shape s = subpixels.shape();
    int n = s.dim(0), c = s.dim(1), hw = s.dim(2) * s.dim(3), levels = logits.shape().dim(1) / c;
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int p = 0; p < hw; p++) {
          v.visit((b * c + ch) * hw + p, ((b * c + ch) * levels) * hw + p, hw);
        }
      }
    }
  }

  private static int levels(Tensor logits, Tensor subpixels) {
    return logits.shape().dim(1) / subpixels.shape().dim(1);
  }

  private static byte[] targets(Tensor targets, int levels) {
    byte[] t = ((HostTensor) targets).toByteArray();
    for (int i = 0; i < t.length; i++) {
      if (Byte.toUnsignedInt(t[i]) >= levels) {
        throw new IllegalArgumentException(
            targets.describe() + "[" + i + "] = " + Byte.toUnsignedInt(t[i]) + " is not below L = " + levels);
      }
    }
    return t;
  }

  /** log Σ exp over the L logits of one sub-pixel, shifted by the max for stability. */
  private static double logSumExp(float[] z, int first, int stride, int levels) {
    double max = Double.NEGATIVE_INFINITY;
    for (int l = 0; l < levels; l++) {
      max = Math.max(max, z[first + l * stride]);
    }
    double s = 0;
    for (int l = 0; l < levels; l++) {
      s += Math.exp(z[first + l * stride] - max);
    }
    return max + Math.log(s);
  }

  @Override
  protected void doSoftmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll) {
    int levels = levels(logits, targets);
    float[] z = read(logits);
    byte[] t = targets(targets, levels);
    float[] out = new float[t.length];
    forEachSubpixel(
        logits,
        targets,
        (k, first, stride) ->
            out[k] = (float) (logSumExp(z, first, stride, levels) - z[first + Byte.toUnsignedInt(t[k]) * stride]));
    write(nll, out);
  }

  @Override
  protected void doSoftmaxCrossEntropyBackward(
      Tensor logits, Tensor targets, Tensor dnll, Tensor dlogits) {
    int levels = levels(logits, targets);
    float[] z = read(logits), g = read(dnll);
    byte[] t = targets(targets, levels);
    float[] out = new float[z.length];
    forEachSubpixel(
        logits,
        targets,
        (k, first, stride) -> {
          double lse = logSumExp(z, first, stride, levels);
          int target = Byte.toUnsignedInt(t[k]);
          for (int l = 0; l < levels; l++) {
            double p = Math.exp(z[first + l * stride] - lse);
            out[first + l * stride] = (float) (g[k] * (p - (l == target ? 1 : 0)));
          }
        });
    write(dlogits, out);
  }

  @Override
  protected void doSampleCategorical(Tensor logits, Tensor uniforms, Tensor out) {
    int levels = levels(logits, out);
    float[] z = read(logits), u = read(uniforms);
    byte[] drawn = new byte[u.length];
    forEachSubpixel(
        logits,
        out,
        (k, first, stride) -> {
          double lse = logSumExp(z, first, stride, levels);
          double cdf = 0;
          int pick = levels - 1; // rounding can leave the total just below u: take the last level
          for (int l = 0; l < levels; l++) {
            cdf += Math.exp(z[first + l * stride] - lse);
            if (cdf > u[k]) {
              pick = l;
              break;
            }
          }
          drawn[k] = (byte) pick;
        });
    ((HostTensor) out).copyFrom(drawn);
  }

  // ---------------------------------------------------------------- dense

  @Override
  protected void doEmbeddingLookup(Tensor table, Tensor indices, Tensor out) {
    float[] tv = read(table);
    int[] idx = ((HostTensor) indices).toIntArray();
    int v = table.shape().dim(0), d = table.shape().dim(1);
    float[] o = new float[idx.length * d];
    for (int i = 0; i < idx.length; i++) {
      checkIndex(indices, i, idx[i], v);
      System.arraycopy(tv, idx[i] * d, o, i * d, d);
    }
    write(out, o);
  }

  @Override
  protected void doEmbeddingBackward(Tensor indices, Tensor dout, Tensor dtable) {
    float[] g = read(dout);
    int[] idx = ((HostTensor) indices).toIntArray();
    int v = dtable.shape().dim(0), d = dtable.shape().dim(1);
    double[] o = new double[v * d];
    for (int i = 0; i < idx.length; i++) {
      checkIndex(indices, i, idx[i], v);
      for (int k = 0; k < d; k++) {
        o[idx[i] * d + k] += g[i * d + k];
      }
    }
    write(dtable, o);
  }

  private static void checkIndex(Tensor indices, int i, int index, int rows) {
    if (index < 0 || index >= rows) {
      throw new IllegalArgumentException(
          indices.describe() + "[" + i + "] = " + index + " is outside the table's rows 0.." + (rows - 1));
    }
  }

  @Override
  protected void doMatmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out) {
    float[] av = read(a), bv = read(b);
    int ar = a.shape().dim(0), ac = a.shape().dim(1), br = b.shape().dim(0), bc = b.shape().dim(1);
    int m = transposeA ? ac : ar, k = transposeA ? ar : ac, n = transposeB ? br : bc;
    double[] o = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double acc = 0;
        for (int p = 0; p < k; p++) {
          double x = transposeA ? av[p * ac + i] : av[i * ac + p];
          double y = transposeB ? bv[j * bc + p] : bv[p * bc + j];
          acc += x * y;
        }
        o[i * n + j] = acc;
      }
    }
    write(out, o);
  }

  @Override
  protected void doSum(Tensor x, Tensor out) {
    double s = 0;
    for (float v : read(x)) {
      s += v;
    }
    write(out, new double[] {s});
  }

  @Override
  protected void doSumOfSquares(Tensor x, Tensor out) {
    double s = 0;
    for (float v : read(x)) {
      s += (double) v * v;
    }
    write(out, new double[] {s});
  }

  // ---------------------------------------------------------------- optimiser

  @Override
  protected void doAdamUpdate(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v) {
    float[] p = read(param), g = read(grad), mv = read(m), vv = read(v);
    double b1 = op.beta1(), b2 = op.beta2();
    double c1 = 1 - Math.pow(b1, step), c2 = 1 - Math.pow(b2, step);
    for (int i = 0; i < p.length; i++) {
      double mi = b1 * mv[i] + (1 - b1) * g[i];
      double vi = b2 * vv[i] + (1 - b2) * (double) g[i] * g[i];
      mv[i] = (float) mi;
      vv[i] = (float) vi;
      p[i] = (float) (p[i] - op.learningRate() * (mi / c1) / (Math.sqrt(vi / c2) + op.epsilon()));
    }
    write(param, p);
    write(m, mv);
    write(v, vv);
  }
}
