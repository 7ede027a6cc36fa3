package dev.mspx.backend.cudnn;

import dev.mspx.api.AdamOp;
import dev.mspx.api.DType;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * The ops that run on mspx's own kernels ({@code mspx_kernels.cu}): for each, the grid and the
 * arguments, computed from the tensors' shapes. {@link CudnnBackend} calls these after validation;
 * {@code KernelEmulationTest} calls the very same methods with a CPU emulation of the kernels as the
 * {@link Launcher}, and compares with the scalar reference, so what is launched is checked without a
 * GPU.
 */
final class KernelOps {

  /** Launches a kernel: {@link CudaModule} on the GPU, an emulator in tests. */
  interface Launcher {
    void launch(
        CudaKernel kernel, int gridX, int gridY, int blockX, int blockY, MemorySegment stream, Object... args);
  }

  /** Partial sums of the first reduction pass: enough blocks to fill any GPU. */
  static final int MAX_PARTIALS = 1024;

  private final Launcher launcher;
  private final MemorySegment stream;
  private final long errorWord;
  private final long partials;

  /**
   * @param errorWord device address of the 4 × u64 error word ({@link DeviceErrors})
   * @param partials device address of {@link #MAX_PARTIALS} doubles
   */
  KernelOps(Launcher launcher, MemorySegment stream, long errorWord, long partials) {
    this.launcher = launcher;
    this.stream = stream;
    this.errorWord = errorWord;
    this.partials = partials;
  }

  /** A grid-stride kernel over {@code n} elements; nothing for {@code n = 0}. */
  private void launch(CudaKernel kernel, long n, Object... args) {
    if (n > 0) {
      launcher.launch(kernel, CudaModule.blocksFor(n), 1, CudaKernel.THREADS, 1, stream, args);
    }
  }

  /** {@code out = w ⊙ mask} over {@code n} floats at device addresses; out may be w. */
  void maskMultiply(long w, long mask, long out, long n) {
    launch(CudaKernel.MASK_MULTIPLY, n, w, mask, out, n);
  }

  void gate(Tensor pre, Tensor out) {
    Shape s = out.shape();
    long n = s.elements();
    launch(CudaKernel.GATE_FORWARD, n, address(pre), address(out), n, perSample(s));
  }

  void gateBackward(Tensor pre, Tensor dout, Tensor dpre) {
    Shape s = dout.shape();
    long n = s.elements();
    launch(CudaKernel.GATE_BACKWARD, n, address(pre), address(dout), address(dpre), n, perSample(s));
  }

  /** Elements per sample of {@code [N, F, H, W]}: the offset between a gate's two halves. */
  private static long perSample(Shape s) {
    return (long) s.dim(1) * s.dim(2) * s.dim(3);
  }

  void add(Tensor a, Tensor b, Tensor out) {
    long n = out.shape().elements();
    launch(CudaKernel.ADD, n, address(a), address(b), address(out), n);
  }

  void scale(Tensor x, double alpha, Tensor out) {
    long n = out.shape().elements();
    launch(CudaKernel.SCALE, n, address(x), alpha, address(out), n);
  }

  void addChannelBias(Tensor x, Tensor bias, Tensor out) {
    Shape s = x.shape();
    long n = s.elements();
    long hw = (long) s.dim(2) * s.dim(3);
    launch(CudaKernel.ADD_CHANNEL_BIAS, n, address(x), address(bias), address(out), n, hw);
  }

  /** One block per (n, c) row. */
  void sumSpatial(Tensor dy, Tensor out) {
    Shape s = dy.shape();
    int rows = s.dim(0) * s.dim(1);
    long hw = (long) s.dim(2) * s.dim(3);
    launcher.launch(
        CudaKernel.SUM_SPATIAL, rows, 1, CudaKernel.REDUCE_THREADS, 1, stream, address(dy), address(out), hw);
  }

  void dequantize(Tensor x, int levels, Tensor out) {
    long n = x.shape().elements();
    launch(CudaKernel.DEQUANTIZE, n, address(x), address(out), n, levels);
  }

  /**
   * Space-to-depth ({@code toDepth}) or back; {@code space} is the [N, C, H, W] side. One kernel per
   * element width: 1 byte (uint8) or 4 (float32, int32, moved as bits).
   */
  void rearrange(Tensor in, Tensor out, Shape space, int block, boolean toDepth) {
    long total = space.elements();
    CudaKernel k = in.dtype().byteSize() == 1 ? CudaKernel.SPACE_DEPTH_U8 : CudaKernel.SPACE_DEPTH_U32;
    launch(
        k, total, address(in), address(out), total, space.dim(1), space.dim(2), space.dim(3), block,
        toDepth ? 1 : 0);
  }

  /** Fills a float32 or int32 tensor (uint8 is a memset). */
  void fill(Tensor t, double value) {
    long n = t.shape().elements();
    int bits =
        t.dtype() == DType.FLOAT32 ? Float.floatToRawIntBits((float) value) : (int) value;
    launch(CudaKernel.FILL_U32, n, address(t), bits, n);
  }

  void softmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll) {
    Shape t = targets.shape();
    long subpixels = t.elements();
    launch(
        CudaKernel.SOFTMAX_XENT, subpixels, address(logits), address(targets), address(nll), subpixels,
        levels(logits, targets), hw(t), errorWord);
  }

  /** Turns {@code dlogits}, which holds softmax(logits), into the gradient. */
  void softmaxCrossEntropyBackward(Tensor targets, Tensor dnll, Tensor dlogits) {
    Shape t = targets.shape();
    long subpixels = t.elements();
    launch(
        CudaKernel.SOFTMAX_XENT_BACKWARD, subpixels, address(dlogits), address(targets), address(dnll),
        subpixels, levels(dlogits, targets), hw(t), errorWord);
  }

  void sampleCategorical(Tensor logits, Tensor uniforms, Tensor out) {
    Shape t = out.shape();
    long subpixels = t.elements();
    launch(
        CudaKernel.SAMPLE_CATEGORICAL, subpixels, address(logits), address(uniforms), address(out),
        subpixels, levels(logits, out), hw(t));
  }

  private static int levels(Tensor logits, Tensor subpixels) {
    return logits.shape().dim(1) / subpixels.shape().dim(1);
  }

  private static long hw(Shape s) {
    return (long) s.dim(2) * s.dim(3);
  }

  void embeddingLookup(Tensor table, Tensor indices, Tensor out) {
    long n = out.shape().elements();
    launch(
        CudaKernel.EMBEDDING_LOOKUP, n, address(table), address(indices), address(out), n,
        table.shape().dim(1), table.shape().dim(0), errorWord);
  }

  void embeddingBackward(Tensor indices, Tensor dout, Tensor dtable) {
    int rows = dtable.shape().dim(0);
    int d = dtable.shape().dim(1);
    launch(
        CudaKernel.EMBEDDING_BACKWARD, (long) rows * d, address(indices), address(dout), address(dtable),
        indices.shape().dim(0), d, rows, errorWord);
  }

  /** TILE × TILE threads per block, one block per output tile. */
  void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out) {
    int m = out.shape().dim(0);
    int n = out.shape().dim(1);
    int k = transposeA ? a.shape().dim(0) : a.shape().dim(1);
    int tile = CudaKernel.MATMUL_TILE;
    int gridY = (m + tile - 1) / tile;
    if (gridY > 65535) {
      throw new IllegalArgumentException(
          "matmul: out " + out.describe() + " has more than " + 65535 * tile + " rows, the kernel's limit");
    }
    launcher.launch(
        CudaKernel.MATMUL, (n + tile - 1) / tile, gridY, tile, tile, stream, address(a), address(b),
        address(out), m, n, k, a.shape().dim(1), b.shape().dim(1), transposeA ? 1 : 0, transposeB ? 1 : 0);
  }

  /**
   * {@code out[0] = Σ x} or {@code Σ x²} in two passes in a fixed order, so the result depends only
   * on the data and its size: {@code blocks} partial sums in double, then one block adds them.
   */
  void reduce(Tensor x, Tensor out, boolean squares) {
    long n = x.shape().elements();
    int threads = CudaKernel.REDUCE_THREADS;
    int blocks = (int) Math.max(1, Math.min(MAX_PARTIALS, (n + threads * 8L - 1) / (threads * 8L)));
    launcher.launch(
        CudaKernel.REDUCE_PARTIAL, blocks, 1, threads, 1, stream, address(x), partials, n, squares ? 1 : 0);
    launcher.launch(CudaKernel.REDUCE_FINAL, 1, 1, threads, 1, stream, partials, address(out), blocks);
  }

  /** Bias corrections in double on the host, as the reference computes them. */
  void adam(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v) {
    long n = param.shape().elements();
    double c1 = 1 - Math.pow(op.beta1(), step);
    double c2 = 1 - Math.pow(op.beta2(), step);
    launch(
        CudaKernel.ADAM, n, address(param), address(grad), address(m), address(v), n, op.learningRate(),
        op.beta1(), op.beta2(), op.epsilon(), c1, c2);
  }

  static long address(Tensor t) {
    return ((DeviceTensor) t).address();
  }
}
