package dev.mspx.api;

import java.util.List;
import java.util.Optional;

/**
 * The compute backend SPI: memory, transfers and the op set of the multiscale PixelCNN (DESIGN.md
 * section 4), forward and backward.
 *
 * <h2>Made for a device backend</h2>
 *
 * <ul>
 *   <li>Tensors are owned by the backend that allocated them and may live in memory the host cannot
 *       read (cuDNN: {@code cudaMalloc}). Data crosses only through {@link #copyFromHost} and {@link
 *       #copyToHost}; {@link #hostView} is the zero-copy path for backends whose memory is host memory.
 *   <li>Ops are <em>stream-ordered</em>: a call may return before the work is done. Ops issued on one
 *       backend run in issue order. {@link #copyToHost} returns once the host tensor holds the result;
 *       {@link #copyFromHost} once the host tensor may be reused. {@link #synchronize()} waits for
 *       everything issued (for timing).
 *   <li>Nothing is read back implicitly: a loss or a norm is reduced into a one-element tensor on the
 *       backend ({@link #sum}, {@link #sumOfSquares}), and the caller decides when to read it.
 *   <li>Scratch memory comes from a {@link Workspace}; a plan lays out all its activations in one, so a
 *       training step allocates nothing.
 * </ul>
 *
 * <h2>Conventions</h2>
 *
 * Activations are {@code float32 [N, C, H, W]}; images and targets {@code uint8 [N, C, H, W]}; logits
 * {@code float32 [N, C·L, H, W]}, channel-major (unit {@code c·L + l}). Every op overwrites all of its
 * outputs (gradients too: accumulate with {@link #add}). No output may alias an input unless the op
 * says so. Every op validates shapes, dtypes and owners first and throws {@link
 * ShapeMismatchException} naming the op and the tensors.
 *
 * <p>{@link #close()} with tensors or workspaces still open throws {@link MemoryLeakException}.
 */
public interface Backend extends MemoryOwner, AutoCloseable {

  // ---------------------------------------------------------------- memory and transfers

  /** A new tensor on this backend. Its contents are unspecified until an op writes it. */
  Tensor allocate(Shape shape, DType dtype, String label);

  /** A workspace of {@code bytes} on this backend. */
  Workspace workspace(long bytes, String label);

  /** Copies a host tensor into a tensor of this backend (same shape and dtype). */
  void copyFromHost(HostTensor src, Tensor dst);

  /** Copies a tensor of this backend into a host tensor (same shape and dtype); blocks until done. */
  void copyToHost(Tensor src, HostTensor dst);

  /** A new tensor of this backend holding a copy of {@code src}. */
  default Tensor fromHost(HostTensor src, String label) {
    Tensor t = allocate(src.shape(), src.dtype(), label);
    try {
      copyFromHost(src, t);
    } catch (RuntimeException e) {
      t.close();
      throw e;
    }
    return t;
  }

  /** A new host tensor from {@code memory} holding a copy of {@code src}. */
  default HostTensor toHost(Tensor src, HostMemory memory) {
    HostTensor h = memory.allocate(src.shape(), src.dtype(), src.label() + "@host");
    try {
      copyToHost(src, h);
    } catch (RuntimeException e) {
      h.close();
      throw e;
    }
    return h;
  }

  /**
   * The tensor's memory seen from the host without a copy, when this backend computes in host memory;
   * empty for device backends.
   */
  Optional<HostTensor> hostView(Tensor tensor);

  /** Waits until every op issued so far has finished. */
  void synchronize();

  // ---------------------------------------------------------------- convolution

  /**
   * {@code y = conv(x, w ⊙ mask) + bias}: x {@code [N, Cin, H, W]}, w and mask {@code [Cout, Cin, kH,
   * kW]}, bias {@code [Cout]}, y {@code [N, Cout, H, W]}. {@code mask} and {@code bias} may be null.
   */
  void conv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y);

  /** Gradient of {@link #conv2d} with respect to x: {@code dx = convᵀ(dy, w ⊙ mask)}. */
  void conv2dBackwardData(Conv2dOp op, Tensor dy, Tensor w, Tensor mask, Tensor dx);

  /**
   * Gradients of {@link #conv2d} with respect to w (zero where the mask is zero) and, when {@code
   * dbias} is not null, the bias ({@code dy} summed over N, H, W).
   */
  void conv2dBackwardFilter(Conv2dOp op, Tensor x, Tensor dy, Tensor mask, Tensor dw, Tensor dbias);

  // ---------------------------------------------------------------- activations

  /**
   * The gated activation of PixelCNN: {@code out = tanh(pre[:, :F]) ⊙ σ(pre[:, F:])}, pre {@code [N,
   * 2F, H, W]}, out {@code [N, F, H, W]}.
   */
  void gate(Tensor pre, Tensor out);

  /** Gradient of {@link #gate}: {@code dpre} from {@code pre} and {@code dout}. */
  void gateBackward(Tensor pre, Tensor dout, Tensor dpre);

  /** {@code y = max(x, 0)}. {@code y} may be {@code x}. */
  void relu(Tensor x, Tensor y);

  /** {@code dx = dy · [x > 0]}. {@code dx} may be {@code dy}. */
  void reluBackward(Tensor x, Tensor dy, Tensor dx);

  // ---------------------------------------------------------------- elementwise

  /** {@code out = a + b}, same shapes. {@code out} may be {@code a} or {@code b}. */
  void add(Tensor a, Tensor b, Tensor out);

  /** {@code out = alpha · x}. {@code out} may be {@code x}. */
  void scale(Tensor x, double alpha, Tensor out);

  /**
   * Adds a per-sample, per-channel bias: {@code out[n,c,h,w] = x[n,c,h,w] + bias[n,c]}, bias {@code
   * [N, C]}. How global conditioning enters a layer. {@code out} may be {@code x}.
   */
  void addChannelBias(Tensor x, Tensor bias, Tensor out);

  /** Gradient of {@link #addChannelBias} for the bias: {@code out[n,c] = Σ_hw dy[n,c,h,w]}. */
  void sumSpatial(Tensor dy, Tensor out);

  /**
   * Images to network inputs: {@code out = x · 2/(L-1) - 1}, x {@code uint8}, out {@code float32} of
   * the same shape, so that levels {@code 0..L-1} span [-1, 1].
   */
  void dequantize(Tensor x, int levels, Tensor out);

  // ---------------------------------------------------------------- layout

  /** Concatenates along the channel axis (dim 1); all of one dtype, other dims equal. */
  void concatChannels(List<Tensor> parts, Tensor out);

  /** The inverse of {@link #concatChannels}: splits {@code in} along dim 1 into {@code parts}. */
  void splitChannels(Tensor in, List<Tensor> parts);

  /**
   * Space-to-depth with block {@code b}: x {@code [N, C, H, W]} to out {@code [N, b²·C, H/b, W/b]},
   * {@code out[n, (dy·b + dx)·C + c, i, j] = x[n, c, b·i + dy, b·j + dx]}. With b = 2 the four
   * channel blocks are the pixel groups G1..G4 of DESIGN.md, in order. Any dtype.
   */
  void spaceToDepth(Tensor x, int block, Tensor out);

  /** The inverse of {@link #spaceToDepth}. Any dtype. */
  void depthToSpace(Tensor x, int block, Tensor out);

  /** {@code dst = src}, same shape and dtype. */
  void copy(Tensor src, Tensor dst);

  /** Sets every element to {@code value} (converted to the dtype). */
  void fill(Tensor t, double value);

  // ---------------------------------------------------------------- likelihood and sampling

  /**
   * Per-sub-pixel negative log-likelihood in nats: logits {@code [N, C·L, H, W]}, targets {@code uint8
   * [N, C, H, W]} with values below L, nll {@code float32 [N, C, H, W]}, {@code nll = logsumexp(z) -
   * z[target]} over the L logits of each sub-pixel.
   */
  void softmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll);

  /** Gradient of {@link #softmaxCrossEntropy}: {@code dlogits = dnll · (softmax(z) - onehot(target))}. */
  void softmaxCrossEntropyBackward(Tensor logits, Tensor targets, Tensor dnll, Tensor dlogits);

  /**
   * Draws every sub-pixel from its softmax by inverse CDF: {@code out = min { l : Σ_{k≤l} p_k > u }}
   * with u from {@code uniforms} ({@code float32 [N, C, H, W]} in [0, 1)), so that backends agree
   * given the same uniforms. out {@code uint8 [N, C, H, W]}.
   */
  void sampleCategorical(Tensor logits, Tensor uniforms, Tensor out);

  // ---------------------------------------------------------------- dense

  /** {@code out[i] = table[indices[i]]}: table {@code [V, D]}, indices {@code int32 [N]}, out {@code [N, D]}. */
  void embeddingLookup(Tensor table, Tensor indices, Tensor out);

  /** Gradient of {@link #embeddingLookup}: {@code dtable[v] = Σ_{i: indices[i]=v} dout[i]}. */
  void embeddingBackward(Tensor indices, Tensor dout, Tensor dtable);

  /**
   * {@code out = op(a) · op(b)}, op transposing when its flag is set; all rank 2, {@code out [M, N]}.
   * Its gradients are matmuls too.
   */
  void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out);

  /** {@code out[0] = Σ x} (accumulated in at least double precision on the reference). out {@code [1]}. */
  void sum(Tensor x, Tensor out);

  /** {@code out[0] = Σ x²}: for the global gradient norm. out {@code [1]}. */
  void sumOfSquares(Tensor x, Tensor out);

  // ---------------------------------------------------------------- optimiser

  /**
   * One Adam step, in place on {@code param}, {@code m} and {@code v} (see {@link AdamOp}); {@code step}
   * counts from 1.
   */
  void adamUpdate(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v);

  // ---------------------------------------------------------------- lifetime

  /**
   * Releases the backend. Throws {@link MemoryLeakException} naming every tensor and workspace still
   * open (after releasing them).
   */
  @Override
  void close();
}
