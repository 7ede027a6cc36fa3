package dev.mspx.api;

import java.util.List;
import java.util.Objects;

/**
 * The validating front of every backend: each public op checks owners, dtypes and shapes, throwing a
 * {@link ShapeMismatchException} that names the op and the tensors, and only then calls the backend's
 * {@code do*} kernel. Backends extend this so that no kernel ever sees an ill-formed call, and every
 * backend reports bad calls the same way.
 */
public abstract class AbstractBackend implements Backend {

  // ---------------------------------------------------------------- kernels

  protected abstract void doConv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y);

  protected abstract void doConv2dBackwardData(Conv2dOp op, Tensor dy, Tensor w, Tensor mask, Tensor dx);

  protected abstract void doConv2dBackwardFilter(
      Conv2dOp op, Tensor x, Tensor dy, Tensor mask, Tensor dw, Tensor dbias);

  protected abstract void doGate(Tensor pre, Tensor out);

  protected abstract void doGateBackward(Tensor pre, Tensor dout, Tensor dpre);

  protected abstract void doRelu(Tensor x, Tensor y);

  protected abstract void doReluBackward(Tensor x, Tensor dy, Tensor dx);

  protected abstract void doAdd(Tensor a, Tensor b, Tensor out);

  protected abstract void doScale(Tensor x, double alpha, Tensor out);

  protected abstract void doAddChannelBias(Tensor x, Tensor bias, Tensor out);

  protected abstract void doSumSpatial(Tensor dy, Tensor out);

  protected abstract void doDequantize(Tensor x, int levels, Tensor out);

  protected abstract void doConcatChannels(List<Tensor> parts, Tensor out);

  protected abstract void doSplitChannels(Tensor in, List<Tensor> parts);

  protected abstract void doSpaceToDepth(Tensor x, int block, Tensor out);

  protected abstract void doDepthToSpace(Tensor x, int block, Tensor out);

  protected abstract void doCopy(Tensor src, Tensor dst);

  protected abstract void doFill(Tensor t, double value);

  protected abstract void doSoftmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll);

  protected abstract void doSoftmaxCrossEntropyBackward(
      Tensor logits, Tensor targets, Tensor dnll, Tensor dlogits);

  protected abstract void doSampleCategorical(Tensor logits, Tensor uniforms, Tensor out);

  protected abstract void doEmbeddingLookup(Tensor table, Tensor indices, Tensor out);

  protected abstract void doEmbeddingBackward(Tensor indices, Tensor dout, Tensor dtable);

  protected abstract void doMatmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out);

  protected abstract void doSum(Tensor x, Tensor out);

  protected abstract void doSumOfSquares(Tensor x, Tensor out);

  protected abstract void doAdamUpdate(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v);

  protected abstract void doCopyFromHost(HostTensor src, Tensor dst);

  protected abstract void doCopyToHost(Tensor src, HostTensor dst);

  // ---------------------------------------------------------------- validated ops

  @Override
  public final void copyFromHost(HostTensor src, Tensor dst) {
    String op = "copyFromHost";
    open(op, "src", src);
    mine(op, "dst", dst);
    same(op, src, dst);
    doCopyFromHost(src, dst);
  }

  @Override
  public final void copyToHost(Tensor src, HostTensor dst) {
    String op = "copyToHost";
    mine(op, "src", src);
    open(op, "dst", dst);
    same(op, src, dst);
    doCopyToHost(src, dst);
  }

  @Override
  public final void conv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y) {
    String name = Objects.requireNonNull(op, "op").toString();
    f32(name, "x", x);
    f32(name, "w", w);
    f32(name, "y", y);
    rank(name, "x", x, 4);
    rank(name, "y", y, 4);
    shape(name, "w", w, op.weightShape());
    if (mask != null) {
      f32(name, "mask", mask);
      shape(name, "mask", mask, op.weightShape());
    }
    if (bias != null) {
      f32(name, "bias", bias);
      shape(name, "bias", bias, Shape.of(op.outChannels()));
    }
    Shape xs = x.shape();
    expectDim(name, "x", x, 1, op.inChannels(), "input channels");
    shape(name, "y", y, Shape.nchw(xs.dim(0), op.outChannels(), xs.dim(2), xs.dim(3)));
    distinct(name, y, x, w, mask, bias);
    doConv2d(op, x, w, mask, bias, y);
  }

  @Override
  public final void conv2dBackwardData(Conv2dOp op, Tensor dy, Tensor w, Tensor mask, Tensor dx) {
    String name = Objects.requireNonNull(op, "op") + " backward-data";
    f32(name, "dy", dy);
    f32(name, "w", w);
    f32(name, "dx", dx);
    rank(name, "dy", dy, 4);
    shape(name, "w", w, op.weightShape());
    if (mask != null) {
      f32(name, "mask", mask);
      shape(name, "mask", mask, op.weightShape());
    }
    Shape s = dy.shape();
    expectDim(name, "dy", dy, 1, op.outChannels(), "output channels");
    shape(name, "dx", dx, Shape.nchw(s.dim(0), op.inChannels(), s.dim(2), s.dim(3)));
    distinct(name, dx, dy, w, mask);
    doConv2dBackwardData(op, dy, w, mask, dx);
  }

  @Override
  public final void conv2dBackwardFilter(
      Conv2dOp op, Tensor x, Tensor dy, Tensor mask, Tensor dw, Tensor dbias) {
    String name = Objects.requireNonNull(op, "op") + " backward-filter";
    f32(name, "x", x);
    f32(name, "dy", dy);
    f32(name, "dw", dw);
    rank(name, "x", x, 4);
    expectDim(name, "x", x, 1, op.inChannels(), "input channels");
    Shape xs = x.shape();
    shape(name, "dy", dy, Shape.nchw(xs.dim(0), op.outChannels(), xs.dim(2), xs.dim(3)));
    shape(name, "dw", dw, op.weightShape());
    if (mask != null) {
      f32(name, "mask", mask);
      shape(name, "mask", mask, op.weightShape());
    }
    if (dbias != null) {
      f32(name, "dbias", dbias);
      shape(name, "dbias", dbias, Shape.of(op.outChannels()));
    }
    distinct(name, dw, x, dy, mask, dbias);
    if (dbias != null) {
      distinct(name, dbias, x, dy, mask);
    }
    doConv2dBackwardFilter(op, x, dy, mask, dw, dbias);
  }

  @Override
  public final void gate(Tensor pre, Tensor out) {
    String op = "gate";
    f32(op, "pre", pre);
    f32(op, "out", out);
    rank(op, "pre", pre, 4);
    Shape p = pre.shape();
    if (p.dim(1) % 2 != 0) {
      throw fail(op, "pre " + pre.describe() + " needs an even channel count (tanh half, sigmoid half)");
    }
    shape(op, "out", out, p.with(1, p.dim(1) / 2));
    distinct(op, out, pre);
    doGate(pre, out);
  }

  @Override
  public final void gateBackward(Tensor pre, Tensor dout, Tensor dpre) {
    String op = "gateBackward";
    f32(op, "pre", pre);
    f32(op, "dout", dout);
    f32(op, "dpre", dpre);
    rank(op, "pre", pre, 4);
    Shape p = pre.shape();
    if (p.dim(1) % 2 != 0) {
      throw fail(op, "pre " + pre.describe() + " needs an even channel count");
    }
    shape(op, "dout", dout, p.with(1, p.dim(1) / 2));
    shape(op, "dpre", dpre, p);
    distinct(op, dpre, pre, dout);
    doGateBackward(pre, dout, dpre);
  }

  @Override
  public final void relu(Tensor x, Tensor y) {
    f32("relu", "x", x);
    f32("relu", "y", y);
    shape("relu", "y", y, x.shape());
    doRelu(x, y);
  }

  @Override
  public final void reluBackward(Tensor x, Tensor dy, Tensor dx) {
    String op = "reluBackward";
    f32(op, "x", x);
    f32(op, "dy", dy);
    f32(op, "dx", dx);
    shape(op, "dy", dy, x.shape());
    shape(op, "dx", dx, x.shape());
    distinct(op, dx, x);
    doReluBackward(x, dy, dx);
  }

  @Override
  public final void add(Tensor a, Tensor b, Tensor out) {
    f32("add", "a", a);
    f32("add", "b", b);
    f32("add", "out", out);
    shape("add", "b", b, a.shape());
    shape("add", "out", out, a.shape());
    doAdd(a, b, out);
  }

  @Override
  public final void scale(Tensor x, double alpha, Tensor out) {
    f32("scale", "x", x);
    f32("scale", "out", out);
    shape("scale", "out", out, x.shape());
    doScale(x, alpha, out);
  }

  @Override
  public final void addChannelBias(Tensor x, Tensor bias, Tensor out) {
    String op = "addChannelBias";
    f32(op, "x", x);
    f32(op, "bias", bias);
    f32(op, "out", out);
    rank(op, "x", x, 4);
    shape(op, "bias", bias, Shape.of(x.shape().dim(0), x.shape().dim(1)));
    shape(op, "out", out, x.shape());
    distinct(op, out, bias);
    doAddChannelBias(x, bias, out);
  }

  @Override
  public final void sumSpatial(Tensor dy, Tensor out) {
    String op = "sumSpatial";
    f32(op, "dy", dy);
    f32(op, "out", out);
    rank(op, "dy", dy, 4);
    shape(op, "out", out, Shape.of(dy.shape().dim(0), dy.shape().dim(1)));
    doSumSpatial(dy, out);
  }

  @Override
  public final void dequantize(Tensor x, int levels, Tensor out) {
    String op = "dequantize";
    dtype(op, "x", x, DType.UINT8);
    f32(op, "out", out);
    shape(op, "out", out, x.shape());
    levels(op, levels);
    doDequantize(x, levels, out);
  }

  @Override
  public final void concatChannels(List<Tensor> parts, Tensor out) {
    String op = "concatChannels";
    mine(op, "out", out);
    rank(op, "out", out, 4);
    int channels = channelParts(op, parts, out);
    expectDim(op, "out", out, 1, channels, "channels (sum over the parts)");
    for (Tensor p : parts) {
      distinct(op, out, p);
    }
    doConcatChannels(List.copyOf(parts), out);
  }

  @Override
  public final void splitChannels(Tensor in, List<Tensor> parts) {
    String op = "splitChannels";
    mine(op, "in", in);
    rank(op, "in", in, 4);
    int channels = channelParts(op, parts, in);
    expectDim(op, "in", in, 1, channels, "channels (sum over the parts)");
    for (Tensor p : parts) {
      distinct(op, p, in);
    }
    doSplitChannels(in, List.copyOf(parts));
  }

  private int channelParts(String op, List<Tensor> parts, Tensor whole) {
    if (parts == null || parts.isEmpty()) {
      throw fail(op, "needs at least one part");
    }
    int channels = 0;
    Shape ws = whole.shape();
    for (int i = 0; i < parts.size(); i++) {
      Tensor p = parts.get(i);
      mine(op, "parts[" + i + "]", p);
      dtype(op, "parts[" + i + "]", p, whole.dtype());
      rank(op, "parts[" + i + "]", p, 4);
      Shape ps = p.shape();
      if (ps.dim(0) != ws.dim(0) || ps.dim(2) != ws.dim(2) || ps.dim(3) != ws.dim(3)) {
        throw fail(
            op,
            "parts["
                + i
                + "] "
                + p.describe()
                + " differs from "
                + whole.describe()
                + " outside the channel axis");
      }
      channels += ps.dim(1);
    }
    return channels;
  }

  @Override
  public final void spaceToDepth(Tensor x, int block, Tensor out) {
    String op = "spaceToDepth(" + block + ")";
    mine(op, "x", x);
    mine(op, "out", out);
    dtype(op, "out", out, x.dtype());
    rank(op, "x", x, 4);
    Shape s = x.shape();
    if (block < 1 || s.dim(2) % block != 0 || s.dim(3) % block != 0) {
      throw fail(op, "x " + x.describe() + " spatial size is not a multiple of block " + block);
    }
    shape(op, "out", out, Shape.nchw(s.dim(0), s.dim(1) * block * block, s.dim(2) / block, s.dim(3) / block));
    distinct(op, out, x);
    doSpaceToDepth(x, block, out);
  }

  @Override
  public final void depthToSpace(Tensor x, int block, Tensor out) {
    String op = "depthToSpace(" + block + ")";
    mine(op, "x", x);
    mine(op, "out", out);
    dtype(op, "out", out, x.dtype());
    rank(op, "x", x, 4);
    Shape s = x.shape();
    if (block < 1 || s.dim(1) % (block * block) != 0) {
      throw fail(op, "x " + x.describe() + " channel count is not a multiple of block² = " + block * block);
    }
    shape(op, "out", out, Shape.nchw(s.dim(0), s.dim(1) / (block * block), s.dim(2) * block, s.dim(3) * block));
    distinct(op, out, x);
    doDepthToSpace(x, block, out);
  }

  @Override
  public final void copy(Tensor src, Tensor dst) {
    mine("copy", "src", src);
    mine("copy", "dst", dst);
    same("copy", src, dst);
    if (src != dst) {
      doCopy(src, dst);
    }
  }

  @Override
  public final void fill(Tensor t, double value) {
    mine("fill", "t", t);
    if (t.dtype() != DType.FLOAT32 && (value != Math.rint(value) || !fits(t.dtype(), value))) {
      throw fail("fill", t.describe() + " cannot hold " + value);
    }
    doFill(t, value);
  }

  private static boolean fits(DType d, double v) {
    return d == DType.UINT8 ? v >= 0 && v <= 255 : v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
  }

  @Override
  public final void softmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll) {
    String op = "softmaxCrossEntropy";
    logitShapes(op, logits, targets);
    f32(op, "nll", nll);
    shape(op, "nll", nll, targets.shape());
    distinct(op, nll, logits);
    doSoftmaxCrossEntropy(logits, targets, nll);
  }

  @Override
  public final void softmaxCrossEntropyBackward(
      Tensor logits, Tensor targets, Tensor dnll, Tensor dlogits) {
    String op = "softmaxCrossEntropyBackward";
    logitShapes(op, logits, targets);
    f32(op, "dnll", dnll);
    f32(op, "dlogits", dlogits);
    shape(op, "dnll", dnll, targets.shape());
    shape(op, "dlogits", dlogits, logits.shape());
    distinct(op, dlogits, logits, dnll);
    doSoftmaxCrossEntropyBackward(logits, targets, dnll, dlogits);
  }

  @Override
  public final void sampleCategorical(Tensor logits, Tensor uniforms, Tensor out) {
    String op = "sampleCategorical";
    dtype(op, "out", out, DType.UINT8);
    logitShapes(op, logits, out);
    f32(op, "uniforms", uniforms);
    shape(op, "uniforms", uniforms, out.shape());
    doSampleCategorical(logits, uniforms, out);
  }

  /** Checks logits {@code [N, C·L, H, W]} against uint8 sub-pixels {@code [N, C, H, W]}, 2 ≤ L ≤ 256. */
  private void logitShapes(String op, Tensor logits, Tensor subpixels) {
    f32(op, "logits", logits);
    dtype(op, "targets", subpixels, DType.UINT8);
    rank(op, "logits", logits, 4);
    rank(op, "targets", subpixels, 4);
    Shape l = logits.shape();
    Shape t = subpixels.shape();
    int c = t.dim(1);
    if (l.dim(0) != t.dim(0) || l.dim(2) != t.dim(2) || l.dim(3) != t.dim(3) || l.dim(1) % c != 0) {
      throw fail(
          op,
          "logits "
              + logits.describe()
              + " do not fit "
              + subpixels.describe()
              + ": expected [N, C·L, H, W] against [N, C, H, W]");
    }
    levels(op, l.dim(1) / c);
  }

  @Override
  public final void embeddingLookup(Tensor table, Tensor indices, Tensor out) {
    String op = "embeddingLookup";
    f32(op, "table", table);
    dtype(op, "indices", indices, DType.INT32);
    f32(op, "out", out);
    rank(op, "table", table, 2);
    rank(op, "indices", indices, 1);
    shape(op, "out", out, Shape.of(indices.shape().dim(0), table.shape().dim(1)));
    doEmbeddingLookup(table, indices, out);
  }

  @Override
  public final void embeddingBackward(Tensor indices, Tensor dout, Tensor dtable) {
    String op = "embeddingBackward";
    dtype(op, "indices", indices, DType.INT32);
    f32(op, "dout", dout);
    f32(op, "dtable", dtable);
    rank(op, "indices", indices, 1);
    rank(op, "dtable", dtable, 2);
    shape(op, "dout", dout, Shape.of(indices.shape().dim(0), dtable.shape().dim(1)));
    distinct(op, dtable, dout);
    doEmbeddingBackward(indices, dout, dtable);
  }

  @Override
  public final void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out) {
    String op = "matmul";
    f32(op, "a", a);
    f32(op, "b", b);
    f32(op, "out", out);
    rank(op, "a", a, 2);
    rank(op, "b", b, 2);
    int m = transposeA ? a.shape().dim(1) : a.shape().dim(0);
    int ka = transposeA ? a.shape().dim(0) : a.shape().dim(1);
    int kb = transposeB ? b.shape().dim(1) : b.shape().dim(0);
    int n = transposeB ? b.shape().dim(0) : b.shape().dim(1);
    if (ka != kb) {
      throw fail(
          op,
          "inner dimensions differ: a "
              + a.describe()
              + (transposeA ? "ᵀ" : "")
              + " · b "
              + b.describe()
              + (transposeB ? "ᵀ" : ""));
    }
    shape(op, "out", out, Shape.of(m, n));
    distinct(op, out, a, b);
    doMatmul(a, transposeA, b, transposeB, out);
  }

  @Override
  public final void sum(Tensor x, Tensor out) {
    f32("sum", "x", x);
    f32("sum", "out", out);
    shape("sum", "out", out, Shape.of(1));
    distinct("sum", out, x);
    doSum(x, out);
  }

  @Override
  public final void sumOfSquares(Tensor x, Tensor out) {
    f32("sumOfSquares", "x", x);
    f32("sumOfSquares", "out", out);
    shape("sumOfSquares", "out", out, Shape.of(1));
    distinct("sumOfSquares", out, x);
    doSumOfSquares(x, out);
  }

  @Override
  public final void adamUpdate(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v) {
    String name = "adamUpdate";
    Objects.requireNonNull(op, "op");
    if (step < 1) {
      throw fail(name, "step counts from 1, got " + step);
    }
    f32(name, "param", param);
    f32(name, "grad", grad);
    f32(name, "m", m);
    f32(name, "v", v);
    shape(name, "grad", grad, param.shape());
    shape(name, "m", m, param.shape());
    shape(name, "v", v, param.shape());
    distinct(name, param, grad, m, v);
    distinct(name, m, grad, v);
    doAdamUpdate(op, step, param, grad, m, v);
  }

  // ---------------------------------------------------------------- checks

  /** The exception every failed check throws: {@code op: message}. */
  protected static ShapeMismatchException fail(String op, String message) {
    return new ShapeMismatchException(op + ": " + message);
  }

  private static void open(String op, String role, Tensor t) {
    if (t == null) {
      throw fail(op, role + " is null");
    }
    if (t.isClosed()) {
      throw fail(op, role + " " + t.describe() + " is closed");
    }
  }

  /** {@code t} is open and was allocated by this backend. */
  protected final void mine(String op, String role, Tensor t) {
    open(op, role, t);
    if (t.owner() != this) {
      throw fail(
          op,
          role
              + " "
              + t.describe()
              + " belongs to "
              + t.owner().name()
              + ", not to backend "
              + name()
              + ": copy it over with copyFromHost/fromHost");
    }
  }

  private void dtype(String op, String role, Tensor t, DType expected) {
    mine(op, role, t);
    if (t.dtype() != expected) {
      throw fail(op, role + " " + t.describe() + " must be " + expected);
    }
  }

  private void f32(String op, String role, Tensor t) {
    dtype(op, role, t, DType.FLOAT32);
  }

  private static void rank(String op, String role, Tensor t, int rank) {
    if (t.shape().rank() != rank) {
      throw fail(op, role + " " + t.describe() + " must have rank " + rank);
    }
  }

  private static void shape(String op, String role, Tensor t, Shape expected) {
    if (!t.shape().equals(expected)) {
      throw fail(op, role + " " + t.describe() + " must have shape " + expected);
    }
  }

  private static void expectDim(String op, String role, Tensor t, int dim, int expected, String what) {
    if (t.shape().dim(dim) != expected) {
      throw fail(
          op,
          role + " " + t.describe() + " has " + t.shape().dim(dim) + " " + what + ", expected " + expected);
    }
  }

  private static void same(String op, Tensor a, Tensor b) {
    if (!a.shape().equals(b.shape()) || a.dtype() != b.dtype()) {
      throw fail(op, a.describe() + " and " + b.describe() + " must have the same shape and dtype");
    }
  }

  private static void levels(String op, int levels) {
    if (levels < 2 || levels > 256) {
      throw fail(op, "levels must lie in 2..256, got " + levels);
    }
  }

  private static void distinct(String op, Tensor out, Tensor... inputs) {
    for (Tensor in : inputs) {
      if (in != null && in == out) {
        throw fail(op, "output " + out.describe() + " may not alias an input");
      }
    }
  }
}
