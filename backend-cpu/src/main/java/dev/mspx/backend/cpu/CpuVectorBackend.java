package dev.mspx.backend.cpu;

import dev.mspx.api.AbstractBackend;
import dev.mspx.api.AdamOp;
import dev.mspx.api.Conv2dOp;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryLeakException;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast CPU backend: the same memory model as {@link CpuReferenceBackend} (tensors are {@link
 * HostTensor}s in an Arrow-backed {@link HostMemory}, workspaces are {@link CpuWorkspace}s, {@link
 * #hostView} returns the tensor itself, ops run synchronously), with kernels written for speed:
 *
 * <ul>
 *   <li>convolutions (the bulk of a training step) as an implicit GEMM with a register-tiled
 *       {@link FloatVector} FMA micro-kernel over a channels-last copy of the input, convolving only
 *       over the taps the mask uses, parallel over a fixed pool of {@code availableProcessors} threads
 *       ({@link VectorConvolution} documents the layout and the float32 accumulation order);
 *   <li>the elementwise ops, the gate, softmax cross-entropy over channel-major logits and Adam as
 *       vector loops over the tensors' memory, parallel when large;
 *   <li>the rest (layout, sampling, embeddings, matmul, sums) as plain loops: they are a sliver of a
 *       step.
 * </ul>
 *
 * <p>Every result is float32 with float32 accumulation, except the reductions ({@code sum}, {@code
 * sumOfSquares}, {@code sumSpatial}, {@code embeddingBackward}, {@code matmul}), which accumulate in
 * double like the reference. Results do not depend on the number of threads. Ops are serialised
 * (one at a time per backend), since the kernels share scratch memory.
 *
 * <p>{@link #close()} stops the thread pool and closes the memory, throwing {@link
 * MemoryLeakException} naming any tensor or workspace still open.
 */
public final class CpuVectorBackend extends AbstractBackend {

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

  /**
   * Floats as many as {@link #D} has lanes: widened to double with one conversion. (Splitting a full
   * float vector with {@code convertShape(F2D, D, part)} takes a slow path: ten times slower.)
   */
  private static final VectorSpecies<Float> HALF =
      VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
  private static final int L = S.length();
  private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
  private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

  /** Elements below which an elementwise op runs on the calling thread alone. */
  private static final int PARALLEL_THRESHOLD = 1 << 15;

  private final String name;
  private final HostMemory memory;
  private final WorkerPool pool;
  private final VectorConvolution conv;
  private final MaskAnalysis masks = new MaskAnalysis();
  private float[] weights = new float[0];

  /** A backend named {@code cpu-vector} with one thread per available processor. */
  public CpuVectorBackend() {
    this("cpu-vector", Runtime.getRuntime().availableProcessors());
  }

  /**
   * @param threads threads that run a kernel, the caller included (1: no pool threads at all)
   */
  public CpuVectorBackend(String name, int threads) {
    this.name = name;
    this.pool = new WorkerPool(threads, name);
    this.memory = HostMemory.create(name);
    this.conv = new VectorConvolution(pool);
  }

  @Override
  public String name() {
    return name;
  }

  /** Threads that run a kernel, the caller included. */
  public int threads() {
    return pool.threads();
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

  /** Stops the pool, then closes the memory (which reports leaks). */
  @Override
  public void close() {
    try {
      pool.close();
      masks.clear();
    } finally {
      memory.close();
    }
  }

  @Override
  protected synchronized void doCopyFromHost(HostTensor src, Tensor dst) {
    MemorySegment.copy(src.segment(), 0, seg(dst), 0, src.byteSize());
  }

  @Override
  protected synchronized void doCopyToHost(Tensor src, HostTensor dst) {
    MemorySegment.copy(seg(src), 0, dst.segment(), 0, dst.byteSize());
  }

  private static MemorySegment seg(Tensor t) {
    return ((HostTensor) t).segment();
  }

  private static float[] read(Tensor t) {
    return t == null ? null : ((HostTensor) t).toFloatArray();
  }

  private static int elements(Tensor t) {
    return Math.toIntExact(t.shape().elements());
  }

  /**
   * {@code w ⊙ mask} in a scratch array reused across calls (weights change every step, so they are
   * read every call; the copy is one bulk move, the product one vector pass).
   */
  private float[] maskedWeight(Tensor w, float[] mask) {
    int n = elements(w);
    if (weights.length < n) {
      weights = new float[n];
    }
    float[] wv = weights;
    MemorySegment.copy(seg(w), ValueLayout.JAVA_FLOAT, 0, wv, 0, n);
    if (mask != null) {
      int i = 0;
      for (int bound = S.loopBound(n); i < bound; i += L) {
        FloatVector.fromArray(S, wv, i).mul(FloatVector.fromArray(S, mask, i)).intoArray(wv, i);
      }
      for (; i < n; i++) {
        wv[i] *= mask[i];
      }
    }
    return wv;
  }

  /** The mask's values (null without a mask) and the taps it uses. */
  private MaskAnalysis.Entry analyse(Conv2dOp op, Tensor mask) {
    if (mask == null) {
      return new MaskAnalysis.Entry(null, ConvTaps.used(null, 0, op.kernelHeight(), op.kernelWidth()));
    }
    return masks.of(mask, op.outChannels() * op.inChannels(), op.kernelHeight(), op.kernelWidth());
  }

  // ---------------------------------------------------------------- convolution

  @Override
  protected synchronized void doConv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y) {
    Shape s = x.shape();
    MaskAnalysis.Entry m = analyse(op, mask);
    conv.forward(
        seg(x), s.dim(0), op.inChannels(), op.outChannels(), s.dim(2), s.dim(3),
        maskedWeight(w, m.values()), m.taps(), read(bias), seg(y));
  }

  @Override
  protected synchronized void doConv2dBackwardData(Conv2dOp op, Tensor dy, Tensor w, Tensor mask, Tensor dx) {
    Shape s = dy.shape();
    MaskAnalysis.Entry m = analyse(op, mask);
    conv.backwardData(
        seg(dy), s.dim(0), op.inChannels(), op.outChannels(), s.dim(2), s.dim(3),
        maskedWeight(w, m.values()), m.taps(), seg(dx));
  }

  @Override
  protected synchronized void doConv2dBackwardFilter(
      Conv2dOp op, Tensor x, Tensor dy, Tensor mask, Tensor dw, Tensor dbias) {
    Shape s = x.shape();
    MaskAnalysis.Entry m = analyse(op, mask);
    conv.backwardFilter(
        seg(x), seg(dy), s.dim(0), op.inChannels(), op.outChannels(), s.dim(2), s.dim(3),
        m.values(), m.taps(), seg(dw), dbias == null ? null : seg(dbias));
  }

  // ---------------------------------------------------------------- parallel ranges

  /** A kernel over elements {@code [from, to)} of its tensors. */
  @FunctionalInterface
  private interface Range {
    void run(long from, long to);
  }

  /**
   * Runs {@code body} over {@code [0, n)}: on the calling thread when small, else in chunks of whole
   * vectors spread over the pool (each element is computed the same way either way).
   */
  private void parallel(long n, Range body) {
    if (n < PARALLEL_THRESHOLD || pool.threads() == 1) {
      body.run(0, n);
      return;
    }
    int chunks = (int) Math.min(4L * pool.threads(), n / (PARALLEL_THRESHOLD / 4));
    long per = (n / chunks + L - 1) / L * L;
    int count = (int) ((n + per - 1) / per);
    pool.forEach(count, (k, worker) -> body.run(k * per, Math.min(n, (k + 1) * per)));
  }

  /** A kernel over pixels {@code [p0, p1)} of one {@code (n, c)} plane of sub-pixels. */
  @FunctionalInterface
  private interface PlaneRange {
    void run(int plane, int p0, int p1);
  }

  /**
   * Runs {@code body} over every plane, split into whole-vector pixel ranges when there are fewer
   * planes than tasks the pool wants (one large image when sampling).
   */
  private void forEachPlane(int planes, int hw, PlaneRange body) {
    int vectors = (hw + L - 1) / L;
    int parts = Math.max(1, Math.min(vectors / 4, (8 * pool.threads() + planes - 1) / planes));
    pool.forEach(
        planes * parts,
        (task, worker) -> {
          int plane = task / parts, part = task % parts;
          int p0 = (int) ((long) vectors * part / parts) * L;
          int p1 = Math.min(hw, (int) ((long) vectors * (part + 1) / parts) * L);
          body.run(plane, p0, p1);
        });
  }

  private static FloatVector load(MemorySegment s, long index) {
    return FloatVector.fromMemorySegment(S, s, index * 4, NATIVE);
  }

  private static void store(FloatVector v, MemorySegment s, long index) {
    v.intoMemorySegment(s, index * 4, NATIVE);
  }

  /** The last index from which a whole vector fits below {@code to}. */
  private static long vectorEnd(long from, long to) {
    return from + (to - from) / L * L;
  }

  // ---------------------------------------------------------------- activations

  // tanh, exp and σ come from VectorMath: reproducible to the bit, unlike VectorOperators.TANH/EXP.

  @Override
  protected synchronized void doGate(Tensor pre, Tensor out) {
    Shape s = out.shape();
    int n = s.dim(0);
    long half = (long) s.dim(1) * s.dim(2) * s.dim(3);
    MemorySegment p = seg(pre), o = seg(out);
    // Output element i of sample b = i / half reads its tanh input at i + b·half (the sample's
    // first half of pre) and its sigmoid input another half further on.
    parallel(
        n * half,
        (from, to) -> {
          long i = from;
          while (i < to) {
            long b = i / half;
            long end = Math.min(to, (b + 1) * half);
            long shift = b * half;
            long stop = vectorEnd(i, end);
            for (; i < stop; i += L) {
              FloatVector t = VectorMath.tanh(load(p, i + shift));
              store(t.mul(VectorMath.sigmoid(load(p, i + shift + half))), o, i);
            }
            for (; i < end; i++) {
              float t = VectorMath.tanh(p.getAtIndex(F, i + shift));
              o.setAtIndex(F, i, t * VectorMath.sigmoid(p.getAtIndex(F, i + shift + half)));
            }
          }
        });
  }

  @Override
  protected synchronized void doGateBackward(Tensor pre, Tensor dout, Tensor dpre) {
    Shape s = dout.shape();
    int n = s.dim(0);
    long half = (long) s.dim(1) * s.dim(2) * s.dim(3);
    MemorySegment p = seg(pre), d = seg(dout), o = seg(dpre);
    FloatVector one = FloatVector.broadcast(S, 1f);
    parallel(
        n * half,
        (from, to) -> {
          long i = from;
          while (i < to) {
            long b = i / half;
            long end = Math.min(to, (b + 1) * half);
            long shift = b * half; // as in doGate
            long stop = vectorEnd(i, end);
            for (; i < stop; i += L) {
              FloatVector t = VectorMath.tanh(load(p, i + shift));
              FloatVector sg = VectorMath.sigmoid(load(p, i + shift + half));
              FloatVector g = load(d, i);
              store(g.mul(sg).mul(one.sub(t.mul(t))), o, i + shift);
              store(g.mul(t).mul(sg).mul(one.sub(sg)), o, i + shift + half);
            }
            for (; i < end; i++) {
              float t = VectorMath.tanh(p.getAtIndex(F, i + shift));
              float sg = VectorMath.sigmoid(p.getAtIndex(F, i + shift + half));
              float g = d.getAtIndex(F, i);
              o.setAtIndex(F, i + shift, g * sg * (1 - t * t));
              o.setAtIndex(F, i + shift + half, g * t * sg * (1 - sg));
            }
          }
        });
  }

  @Override
  protected synchronized void doRelu(Tensor x, Tensor y) {
    MemorySegment a = seg(x), o = seg(y);
    FloatVector zero = FloatVector.zero(S);
    parallel(
        x.shape().elements(),
        (from, to) -> {
          long i = from;
          for (long stop = vectorEnd(from, to); i < stop; i += L) {
            FloatVector v = load(a, i);
            store(zero.blend(v, v.compare(VectorOperators.GT, 0f)), o, i);
          }
          for (; i < to; i++) {
            float v = a.getAtIndex(F, i);
            o.setAtIndex(F, i, v > 0 ? v : 0f);
          }
        });
  }

  @Override
  protected synchronized void doReluBackward(Tensor x, Tensor dy, Tensor dx) {
    MemorySegment a = seg(x), g = seg(dy), o = seg(dx);
    FloatVector zero = FloatVector.zero(S);
    parallel(
        x.shape().elements(),
        (from, to) -> {
          long i = from;
          for (long stop = vectorEnd(from, to); i < stop; i += L) {
            VectorMask<Float> on = load(a, i).compare(VectorOperators.GT, 0f);
            store(zero.blend(load(g, i), on), o, i);
          }
          for (; i < to; i++) {
            o.setAtIndex(F, i, a.getAtIndex(F, i) > 0 ? g.getAtIndex(F, i) : 0f);
          }
        });
  }

  // ---------------------------------------------------------------- elementwise

  @Override
  protected synchronized void doAdd(Tensor a, Tensor b, Tensor out) {
    MemorySegment x = seg(a), y = seg(b), o = seg(out);
    parallel(
        a.shape().elements(),
        (from, to) -> {
          long i = from;
          for (long stop = vectorEnd(from, to); i < stop; i += L) {
            store(load(x, i).add(load(y, i)), o, i);
          }
          for (; i < to; i++) {
            o.setAtIndex(F, i, x.getAtIndex(F, i) + y.getAtIndex(F, i));
          }
        });
  }

  @Override
  protected synchronized void doScale(Tensor x, double alpha, Tensor out) {
    MemorySegment a = seg(x), o = seg(out);
    float f = (float) alpha;
    parallel(
        x.shape().elements(),
        (from, to) -> {
          long i = from;
          for (long stop = vectorEnd(from, to); i < stop; i += L) {
            store(load(a, i).mul(f), o, i);
          }
          for (; i < to; i++) {
            o.setAtIndex(F, i, a.getAtIndex(F, i) * f);
          }
        });
  }

  @Override
  protected synchronized void doAddChannelBias(Tensor x, Tensor bias, Tensor out) {
    MemorySegment a = seg(x), o = seg(out);
    float[] bv = read(bias);
    long hw = x.shape().elements() / bv.length;
    for (int k = 0; k < bv.length; k++) {
      long from = k * hw, to = from + hw;
      long i = from;
      for (long stop = vectorEnd(from, to); i < stop; i += L) {
        store(load(a, i).add(bv[k]), o, i);
      }
      for (; i < to; i++) {
        o.setAtIndex(F, i, a.getAtIndex(F, i) + bv[k]);
      }
    }
  }

  @Override
  protected synchronized void doSumSpatial(Tensor dy, Tensor out) {
    MemorySegment g = seg(dy);
    int nc = elements(out);
    long hw = dy.shape().elements() / nc;
    float[] s = new float[nc];
    for (int k = 0; k < nc; k++) {
      s[k] = (float) sumDouble(g, k * hw, (k + 1) * hw, false);
    }
    ((HostTensor) out).copyFrom(s);
  }

  /** {@code Σ x} or {@code Σ x²} over {@code [from, to)}, float products widened and summed in double. */
  private static double sumDouble(MemorySegment x, long from, long to, boolean squares) {
    int lanes = HALF.length();
    DoubleVector acc0 = DoubleVector.zero(D), acc1 = acc0;
    long i = from;
    for (long stop = from + (to - from) / (2 * lanes) * (2 * lanes); i < stop; i += 2 * lanes) {
      DoubleVector lo = (DoubleVector) FloatVector.fromMemorySegment(HALF, x, i * 4, NATIVE).convertShape(VectorOperators.F2D, D, 0);
      DoubleVector hi =
          (DoubleVector) FloatVector.fromMemorySegment(HALF, x, (i + lanes) * 4, NATIVE).convertShape(VectorOperators.F2D, D, 0);
      if (squares) {
        acc0 = lo.fma(lo, acc0);
        acc1 = hi.fma(hi, acc1);
      } else {
        acc0 = acc0.add(lo);
        acc1 = acc1.add(hi);
      }
    }
    double s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
    for (; i < to; i++) {
      double v = x.getAtIndex(F, i);
      s += squares ? v * v : v;
    }
    return s;
  }

  @Override
  protected synchronized void doDequantize(Tensor x, int levels, Tensor out) {
    // The reference's formula per level, so that both backends agree exactly and the ends are ±1.
    float[] table = new float[256];
    for (int v = 0; v < 256; v++) {
      table[v] = (float) (v * 2.0 / (levels - 1) - 1.0);
    }
    MemorySegment a = seg(x), o = seg(out);
    long n = x.shape().elements();
    for (long i = 0; i < n; i++) {
      o.setAtIndex(F, i, table[Byte.toUnsignedInt(a.get(ValueLayout.JAVA_BYTE, i))]);
    }
  }

  // ---------------------------------------------------------------- layout

  @Override
  protected synchronized void doConcatChannels(List<Tensor> parts, Tensor out) {
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
  protected synchronized void doSplitChannels(Tensor in, List<Tensor> parts) {
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
  protected synchronized void doSpaceToDepth(Tensor x, int block, Tensor out) {
    rearrange(x, out, block, true);
  }

  @Override
  protected synchronized void doDepthToSpace(Tensor x, int block, Tensor out) {
    rearrange(out, x, block, false);
  }

  /**
   * {@code depth[n, (dy·b+dx)·C + c, i, j] = space[n, c, b·i+dy, b·j+dx]}, moving whole elements
   * (1 or 4 bytes) as integers, so every dtype is copied bit for bit.
   */
  private static void rearrange(Tensor space, Tensor depth, int b, boolean toDepth) {
    Shape s = space.shape();
    int n = s.dim(0), c = s.dim(1), h = s.dim(2), w = s.dim(3), hb = h / b, wb = w / b;
    boolean bytes = space.dtype().byteSize() == 1;
    MemorySegment sp = seg(space), dp = seg(depth);
    for (int bn = 0; bn < n; bn++) {
      for (int dy = 0; dy < b; dy++) {
        for (int dx = 0; dx < b; dx++) {
          for (int ch = 0; ch < c; ch++) {
            int dc = (dy * b + dx) * c + ch;
            for (int i = 0; i < hb; i++) {
              long si = (((long) bn * c + ch) * h + (long) b * i + dy) * w + dx;
              long di = (((long) bn * b * b * c + dc) * hb + i) * wb;
              for (int j = 0; j < wb; j++, si += b, di++) {
                long from = toDepth ? si : di, to = toDepth ? di : si;
                MemorySegment src = toDepth ? sp : dp, dst = toDepth ? dp : sp;
                if (bytes) {
                  dst.set(ValueLayout.JAVA_BYTE, to, src.get(ValueLayout.JAVA_BYTE, from));
                } else {
                  dst.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, to, src.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, from));
                }
              }
            }
          }
        }
      }
    }
  }

  @Override
  protected synchronized void doCopy(Tensor src, Tensor dst) {
    MemorySegment.copy(seg(src), 0, seg(dst), 0, src.byteSize());
  }

  @Override
  protected synchronized void doFill(Tensor t, double value) {
    MemorySegment s = seg(t);
    long n = t.shape().elements();
    switch (t.dtype()) {
      case UINT8 -> s.fill((byte) (int) value);
      case INT32 -> {
        int v = (int) value;
        for (long i = 0; i < n; i++) {
          s.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, v);
        }
      }
      case FLOAT32 -> {
        float v = (float) value;
        FloatVector vv = FloatVector.broadcast(S, v);
        long i = 0;
        for (long stop = vectorEnd(0, n); i < stop; i += L) {
          store(vv, s, i);
        }
        for (; i < n; i++) {
          s.setAtIndex(F, i, v);
        }
      }
    }
  }

  // ---------------------------------------------------------------- likelihood and sampling

  /** Checks every target against L, as the reference does, before any output is written. */
  private static void checkTargets(Tensor targets, int levels) {
    MemorySegment t = seg(targets);
    long n = targets.shape().elements();
    for (long i = 0; i < n; i++) {
      int v = Byte.toUnsignedInt(t.get(ValueLayout.JAVA_BYTE, i));
      if (v >= levels) {
        throw new IllegalArgumentException(
            targets.describe() + "[" + i + "] = " + v + " is not below L = " + levels);
      }
    }
  }

  /**
   * Softmax cross-entropy vectorised over pixels: for channel-major logits the L logits of 16
   * neighbouring sub-pixels are 16 contiguous floats per level. {@code nll = (max - z_t) + log Σ
   * exp(z - max)}, the two parts kept apart so a small nll keeps its precision.
   */
  @Override
  protected synchronized void doSoftmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll) {
    Shape s = targets.shape();
    int planes = s.dim(0) * s.dim(1), hw = s.dim(2) * s.dim(3), levels = logits.shape().dim(1) / s.dim(1);
    checkTargets(targets, levels);
    MemorySegment z = seg(logits), t = seg(targets), out = seg(nll);
    forEachPlane(
        planes,
        hw,
        (plane, p0, p1) -> {
          long first = (long) plane * levels * hw;
          float[] zt = new float[L];
          for (int p = p0; p < p1; p += L) {
            VectorMask<Float> m = S.indexInRange(p, hw);
            FloatVector max = maxOver(z, first + p, hw, levels, m);
            FloatVector sum = sumExp(z, first + p, hw, levels, m, max);
            int lanes = Math.min(L, hw - p);
            for (int k = 0; k < lanes; k++) {
              int target = Byte.toUnsignedInt(t.get(ValueLayout.JAVA_BYTE, (long) plane * hw + p + k));
              zt[k] = z.getAtIndex(F, first + (long) target * hw + p + k);
            }
            FloatVector r = max.sub(FloatVector.fromArray(S, zt, 0)).add(sum.lanewise(VectorOperators.LOG));
            r.intoMemorySegment(out, ((long) plane * hw + p) * 4, NATIVE, m);
          }
        });
  }

  private static FloatVector maxOver(MemorySegment z, long at, int hw, int levels, VectorMask<Float> m) {
    FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
    for (int l = 0; l < levels; l++) {
      max = max.max(FloatVector.fromMemorySegment(S, z, (at + (long) l * hw) * 4, NATIVE, m));
    }
    return max;
  }

  private static FloatVector sumExp(
      MemorySegment z, long at, int hw, int levels, VectorMask<Float> m, FloatVector max) {
    FloatVector sum = FloatVector.zero(S);
    for (int l = 0; l < levels; l++) {
      FloatVector v = FloatVector.fromMemorySegment(S, z, (at + (long) l * hw) * 4, NATIVE, m);
      sum = sum.add(VectorMath.exp(v.sub(max)));
    }
    // Lanes past the image hold exp(0 - 0) sums: finite, and never stored.
    return sum;
  }

  @Override
  protected synchronized void doSoftmaxCrossEntropyBackward(
      Tensor logits, Tensor targets, Tensor dnll, Tensor dlogits) {
    Shape s = targets.shape();
    int planes = s.dim(0) * s.dim(1), hw = s.dim(2) * s.dim(3), levels = logits.shape().dim(1) / s.dim(1);
    checkTargets(targets, levels);
    MemorySegment z = seg(logits), t = seg(targets), g = seg(dnll), out = seg(dlogits);
    forEachPlane(
        planes,
        hw,
        (plane, p0, p1) -> {
          long first = (long) plane * levels * hw;
          float[] tv = new float[L];
          for (int p = p0; p < p1; p += L) {
            VectorMask<Float> m = S.indexInRange(p, hw);
            FloatVector max = maxOver(z, first + p, hw, levels, m);
            // exp(z - max) goes into dlogits on the way, so that the last pass only scales it.
            FloatVector sum = FloatVector.zero(S);
            for (int l = 0; l < levels; l++) {
              long at = (first + (long) l * hw + p) * 4;
              FloatVector e = VectorMath.exp(FloatVector.fromMemorySegment(S, z, at, NATIVE, m).sub(max));
              e.intoMemorySegment(out, at, NATIVE, m);
              sum = sum.add(e);
            }
            long sub = (long) plane * hw + p;
            FloatVector d = FloatVector.fromMemorySegment(S, g, sub * 4, NATIVE, m);
            FloatVector scale = d.div(sum.blend(FloatVector.broadcast(S, 1f), m.not()));
            int lanes = Math.min(L, hw - p);
            java.util.Arrays.fill(tv, -1f);
            for (int k = 0; k < lanes; k++) {
              tv[k] = Byte.toUnsignedInt(t.get(ValueLayout.JAVA_BYTE, sub + k));
            }
            FloatVector target = FloatVector.fromArray(S, tv, 0);
            for (int l = 0; l < levels; l++) {
              long at = (first + (long) l * hw + p) * 4;
              FloatVector e = FloatVector.fromMemorySegment(S, out, at, NATIVE, m);
              FloatVector r = e.mul(scale).sub(d, target.compare(VectorOperators.EQ, (float) l));
              r.intoMemorySegment(out, at, NATIVE, m);
            }
          }
        });
  }

  @Override
  protected synchronized void doSampleCategorical(Tensor logits, Tensor uniforms, Tensor out) {
    Shape s = out.shape();
    int planes = s.dim(0) * s.dim(1), hw = s.dim(2) * s.dim(3), levels = logits.shape().dim(1) / s.dim(1);
    MemorySegment z = seg(logits), u = seg(uniforms), o = seg(out);
    // Inverse CDF in double, as the reference: sampling is a sliver of the work and must agree.
    forEachPlane(
        planes,
        hw,
        (plane, p0, p1) -> {
          long first = (long) plane * levels * hw;
          for (int p = p0; p < p1; p++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int l = 0; l < levels; l++) {
              max = Math.max(max, z.getAtIndex(F, first + (long) l * hw + p));
            }
            double sum = 0;
            for (int l = 0; l < levels; l++) {
              sum += Math.exp(z.getAtIndex(F, first + (long) l * hw + p) - max);
            }
            double lse = max + Math.log(sum);
            float draw = u.getAtIndex(F, (long) plane * hw + p);
            double cdf = 0;
            int pick = levels - 1; // rounding can leave the total just below u: take the last level
            for (int l = 0; l < levels; l++) {
              cdf += Math.exp(z.getAtIndex(F, first + (long) l * hw + p) - lse);
              if (cdf > draw) {
                pick = l;
                break;
              }
            }
            o.set(ValueLayout.JAVA_BYTE, (long) plane * hw + p, (byte) pick);
          }
        });
  }

  // ---------------------------------------------------------------- dense

  @Override
  protected synchronized void doEmbeddingLookup(Tensor table, Tensor indices, Tensor out) {
    int[] idx = ((HostTensor) indices).toIntArray();
    int v = table.shape().dim(0);
    long rowBytes = (long) table.shape().dim(1) * 4;
    for (int i = 0; i < idx.length; i++) {
      checkIndex(indices, i, idx[i], v);
    }
    for (int i = 0; i < idx.length; i++) {
      MemorySegment.copy(seg(table), idx[i] * rowBytes, seg(out), i * rowBytes, rowBytes);
    }
  }

  @Override
  protected synchronized void doEmbeddingBackward(Tensor indices, Tensor dout, Tensor dtable) {
    float[] g = read(dout);
    int[] idx = ((HostTensor) indices).toIntArray();
    int v = dtable.shape().dim(0), d = dtable.shape().dim(1);
    double[] o = new double[v * d];
    for (int i = 0; i < idx.length; i++) {
      checkIndex(indices, i, idx[i], v);
    }
    for (int i = 0; i < idx.length; i++) {
      for (int k = 0; k < d; k++) {
        o[idx[i] * d + k] += g[i * d + k];
      }
    }
    writeRounded(dtable, o);
  }

  private static void checkIndex(Tensor indices, int i, int index, int rows) {
    if (index < 0 || index >= rows) {
      throw new IllegalArgumentException(
          indices.describe() + "[" + i + "] = " + index + " is outside the table's rows 0.." + (rows - 1));
    }
  }

  private static void writeRounded(Tensor t, double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    ((HostTensor) t).copyFrom(f);
  }

  /**
   * Plain dot products in double over rows made contiguous first: dense layers (conditioning
   * projections) are tiny next to the convolutions.
   */
  @Override
  protected synchronized void doMatmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out) {
    float[] av = read(a), bv = read(b);
    int ar = a.shape().dim(0), ac = a.shape().dim(1), br = b.shape().dim(0), bc = b.shape().dim(1);
    int m = transposeA ? ac : ar, k = transposeA ? ar : ac, n = transposeB ? br : bc;
    float[] rowsA = transposeA ? transpose(av, ar, ac) : av; // [m][k]
    float[] colsB = transposeB ? bv : transpose(bv, br, bc); // [n][k]
    double[] o = new double[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double acc = 0;
        for (int p = 0; p < k; p++) {
          acc += (double) rowsA[i * k + p] * colsB[j * k + p];
        }
        o[i * n + j] = acc;
      }
    }
    writeRounded(out, o);
  }

  private static float[] transpose(float[] v, int rows, int cols) {
    float[] t = new float[v.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[c * rows + r] = v[r * cols + c];
      }
    }
    return t;
  }

  @Override
  protected synchronized void doSum(Tensor x, Tensor out) {
    seg(out).setAtIndex(F, 0, (float) sumDouble(seg(x), 0, x.shape().elements(), false));
  }

  @Override
  protected synchronized void doSumOfSquares(Tensor x, Tensor out) {
    seg(out).setAtIndex(F, 0, (float) sumDouble(seg(x), 0, x.shape().elements(), true));
  }

  // ---------------------------------------------------------------- optimiser

  /**
   * Adam in float32: {@code m = β1·m + (1-β1)·g}, {@code v = β2·v + (1-β2)·g²}, {@code p -= (lr/c1)·m
   * / (sqrt(v/c2) + ε)} with the bias corrections {@code c = 1 - β^t} computed once in double.
   */
  @Override
  protected synchronized void doAdamUpdate(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v) {
    float b1 = (float) op.beta1(), b2 = (float) op.beta2();
    float a1 = (float) (1 - op.beta1()), a2 = (float) (1 - op.beta2());
    float rate = (float) (op.learningRate() / (1 - Math.pow(op.beta1(), step)));
    float c2 = (float) (1 - Math.pow(op.beta2(), step));
    float eps = (float) op.epsilon();
    MemorySegment p = seg(param), g = seg(grad), ms = seg(m), vs = seg(v);
    parallel(
        param.shape().elements(),
        (from, to) -> {
          long i = from;
          for (long stop = vectorEnd(from, to); i < stop; i += L) {
            FloatVector gi = load(g, i);
            FloatVector mi = load(ms, i).mul(b1).add(gi.mul(a1));
            FloatVector vi = load(vs, i).mul(b2).add(gi.mul(gi).mul(a2));
            store(mi, ms, i);
            store(vi, vs, i);
            FloatVector denom = vi.div(c2).lanewise(VectorOperators.SQRT).add(eps);
            store(load(p, i).sub(mi.mul(rate).div(denom)), p, i);
          }
          for (; i < to; i++) {
            float gi = g.getAtIndex(F, i);
            float mi = ms.getAtIndex(F, i) * b1 + gi * a1;
            float vi = vs.getAtIndex(F, i) * b2 + gi * gi * a2;
            ms.setAtIndex(F, i, mi);
            vs.setAtIndex(F, i, vi);
            float denom = (float) Math.sqrt(vi / c2) + eps;
            p.setAtIndex(F, i, p.getAtIndex(F, i) - mi * rate / denom);
          }
        });
  }
}
