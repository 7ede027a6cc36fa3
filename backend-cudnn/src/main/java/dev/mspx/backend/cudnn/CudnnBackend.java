package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.mspx.api.AbstractBackend;
import dev.mspx.api.AdamOp;
import dev.mspx.api.Conv2dOp;
import dev.mspx.api.DType;
import dev.mspx.api.HostTensor;
import dev.mspx.api.LiveSet;
import dev.mspx.api.MemoryLeakException;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;
import dev.mspx.backend.cudnn.ConvolutionPlan.Choice;
import dev.mspx.backend.cudnn.ConvolutionPlan.Pass;
import dev.mspx.backend.cudnn.bindings.cuda_runtime_api_h;
import dev.mspx.backend.cudnn.bindings.cudnn_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Backend SPI on an NVIDIA GPU: tensors in {@code cudaMalloc} memory, convolutions and their
 * gradients, ReLU and softmax through cuDNN 9, every other op through mspx's own CUDA kernels
 * ({@code src/main/cuda/mspx_kernels.cu}, loaded as PTX through the driver API). All calls go
 * through the jextract bindings in {@code dev.mspx.backend.cudnn.bindings}; every status is checked
 * and becomes a {@link CudaException} or {@link CudnnException}.
 *
 * <p>Ops are issued on the backend's own CUDA stream and return before the GPU has run them;
 * {@link #copyToHost} and {@link #synchronize} wait. Convolution algorithms are chosen once per
 * layer and input size ({@link ConvolutionAlgorithms}) and share one growing workspace. Convolutions
 * use FMA kernels only (float32 results, no TF32) unless {@code -Dmspx.cudnn.tf32=true}.
 *
 * <p>A backend is driven by one thread at a time, like the stream under it. Start one through
 * {@link CudnnBackendProvider#create()} (or {@code BackendModule.select("cudnn")}), which checks the machine
 * first.
 */
// Device addresses become MemorySegments only to be passed to native calls.
@SuppressWarnings("restricted")
public final class CudnnBackend extends AbstractBackend {

  /** Allows TF32 tensor cores in convolutions: faster on Ampere and later, ~1e-3 relative error. */
  static final String TF32_PROPERTY = "mspx.cudnn.tf32";

  private static final MemorySegment ONE = Arena.global().allocateFrom(JAVA_FLOAT, 1f);
  private static final MemorySegment ZERO = Arena.global().allocateFrom(JAVA_FLOAT, 0f);

  /** What the books hold per allocation: its address and size. */
  private record Allocation(long address, long bytes) {}

  private final String name;
  private final CudaDevice device;
  private final KernelOps kernels;
  private final ConvolutionAlgorithms algorithms;
  private final boolean exactMath;
  private final LiveSet live;
  private final Deque<Runnable> teardown = new ArrayDeque<>();
  private final MemorySegment stream;
  private final MemorySegment handle;
  private final MemorySegment relu;
  private final long errorWord;
  private final long partials;
  private final DeviceBuffer convWorkspace = new DeviceBuffer("the cuDNN convolution workspace");
  private final DeviceBuffer maskedWeights = new DeviceBuffer("masked convolution weights");
  private final Map<ConvolutionPlan.Key, ConvolutionPlan> convolutions = new HashMap<>();
  private final Map<List<Integer>, MemorySegment> tensorDescriptors = new HashMap<>();
  private final Arena hostScratch = Arena.ofShared();
  private final MemorySegment errorCopy;
  private volatile boolean closed;

  CudnnBackend(CudaDevice device, ConvolutionAlgorithms algorithms, boolean exactMath) {
    this.name = "cudnn";
    this.device = device;
    this.algorithms = algorithms;
    this.exactMath = exactMath;
    this.live = new LiveSet(name);
    device.bindToCurrentThread();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      Status.cuda(
          cuda_runtime_api_h.cudaStreamCreateWithFlags(out, cuda_runtime_api_h.cudaStreamNonBlocking()),
          "cudaStreamCreateWithFlags");
      stream = out.get(ADDRESS, 0);
      teardown.push(() -> Status.cuda(cuda_runtime_api_h.cudaStreamDestroy(stream), "cudaStreamDestroy"));

      Status.cudnn(cudnn_h.cudnnCreate(out), "cudnnCreate");
      handle = out.get(ADDRESS, 0);
      teardown.push(() -> Status.cudnn(cudnn_h.cudnnDestroy(handle), "cudnnDestroy"));
      Status.cudnn(cudnn_h.cudnnSetStream(handle, stream), "cudnnSetStream");

      relu = Descriptors.relu();
      teardown.push(() -> Descriptors.destroy(Descriptors.Kind.ACTIVATION, relu));

      errorWord = DeviceBuffer.malloc(DeviceErrors.BYTES, "the kernels' error word");
      teardown.push(() -> DeviceBuffer.free(errorWord, "the kernels' error word"));
      Status.cuda(
          cuda_runtime_api_h.cudaMemsetAsync(seg(errorWord), 0, DeviceErrors.BYTES, stream),
          "cudaMemsetAsync(error word)");
      partials = DeviceBuffer.malloc(KernelOps.MAX_PARTIALS * 8L, "reduction partial sums");
      teardown.push(() -> DeviceBuffer.free(partials, "reduction partial sums"));
      kernels = new KernelOps(device.kernels, stream, errorWord, partials);
      teardown.push(convWorkspace::release);
      teardown.push(maskedWeights::release);
      teardown.push(this::destroyDescriptors);
      errorCopy = hostScratch.allocate(DeviceErrors.BYTES, 8);
      teardown.push(hostScratch::close);
    } catch (RuntimeException e) {
      runTeardown(e);
      throw e;
    }
  }

  @Override
  public String name() {
    return name;
  }

  /**
   * The device address of one of this backend's tensors, for a library that reads and writes device
   * memory on {@link #stream()} in order with this backend's ops (NCCL's all-reduce of gradients in
   * the distributed module). Binds this backend's device to the calling thread.
   */
  public long deviceAddress(Tensor t) {
    if (t.owner() != this || !(t instanceof DeviceTensor d)) {
      throw new IllegalArgumentException("tensor " + t.label() + " does not belong to backend " + name);
    }
    device.bindToCurrentThread();
    return d.address();
  }

  /** The CUDA stream ({@code cudaStream_t}) every op of this backend is issued on. */
  public MemorySegment stream() {
    return stream;
  }

  // ---------------------------------------------------------------- memory

  @Override
  public Tensor allocate(Shape shape, DType dtype, String label) {
    checkOpen();
    device.bindToCurrentThread();
    long bytes = shape.elements() * dtype.byteSize();
    String what = label + " " + dtype + shape;
    long address = DeviceBuffer.malloc(bytes, what);
    Allocation a = new Allocation(address, bytes);
    live.add(a, what, bytes);
    return new DeviceTensor(shape, dtype, this, label, address, () -> release(a, what), () -> false);
  }

  @Override
  public Workspace workspace(long bytes, String label) {
    if (bytes < 1) {
      throw new IllegalArgumentException("workspace " + label + ": size must be >= 1 byte, got " + bytes);
    }
    checkOpen();
    device.bindToCurrentThread();
    String what = "workspace " + label + " (" + bytes + " bytes)";
    long address = DeviceBuffer.malloc(bytes, what);
    Allocation a = new Allocation(address, bytes);
    live.add(a, what, bytes);
    return new DeviceWorkspace(this, label, address, bytes, () -> release(a, what));
  }

  private void release(Allocation a, String what) {
    if (closed) {
      return; // the backend freed everything when it closed
    }
    live.remove(a, a.bytes());
    device.bindToCurrentThread();
    DeviceBuffer.free(a.address(), what);
  }

  @Override
  public long outstandingBytes() {
    return live.bytes();
  }

  @Override
  public Optional<HostTensor> hostView(Tensor tensor) {
    return Optional.empty();
  }

  @Override
  protected void doCopyFromHost(HostTensor src, Tensor dst) {
    enter();
    long bytes = src.byteSize();
    MemorySegment from = src.segment();
    if (from.isNative()) {
      // Pageable memory: cudaMemcpyAsync returns once the bytes are staged, so src may be reused.
      Status.cuda(
          cuda_runtime_api_h.cudaMemcpyAsync(
              seg(dst), from, bytes, cuda_runtime_api_h.cudaMemcpyHostToDevice(), stream),
          () -> "cudaMemcpyAsync(host " + src.describe() + " -> " + dst.describe() + ")");
    } else {
      // A heap segment has no address the GPU can read: stage it in native memory.
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment staged = arena.allocate(bytes, 8);
        MemorySegment.copy(from, 0, staged, 0, bytes);
        Status.cuda(
            cuda_runtime_api_h.cudaMemcpyAsync(
                seg(dst), staged, bytes, cuda_runtime_api_h.cudaMemcpyHostToDevice(), stream),
            () -> "cudaMemcpyAsync(host " + src.describe() + " -> " + dst.describe() + ")");
        sync("copyFromHost " + dst.describe());
      }
    }
  }

  @Override
  protected void doCopyToHost(Tensor src, HostTensor dst) {
    enter();
    long bytes = src.byteSize();
    MemorySegment to = dst.segment();
    if (to.isNative()) {
      Status.cuda(
          cuda_runtime_api_h.cudaMemcpyAsync(
              to, seg(src), bytes, cuda_runtime_api_h.cudaMemcpyDeviceToHost(), stream),
          () -> "cudaMemcpyAsync(" + src.describe() + " -> host " + dst.describe() + ")");
      sync("copyToHost " + src.describe());
    } else {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment staged = arena.allocate(bytes, 8);
        Status.cuda(
            cuda_runtime_api_h.cudaMemcpyAsync(
                staged, seg(src), bytes, cuda_runtime_api_h.cudaMemcpyDeviceToHost(), stream),
            () -> "cudaMemcpyAsync(" + src.describe() + " -> host " + dst.describe() + ")");
        sync("copyToHost " + src.describe());
        MemorySegment.copy(staged, 0, to, 0, bytes);
      }
    }
    checkDeviceErrors();
  }

  @Override
  public void synchronize() {
    enter();
    sync("synchronize");
    checkDeviceErrors();
  }

  private void sync(String what) {
    Status.cuda(
        cuda_runtime_api_h.cudaStreamSynchronize(stream), () -> "cudaStreamSynchronize (" + what + ")");
  }

  /** Throws the first bad input a kernel recorded since the last check, and clears the record. */
  private void checkDeviceErrors() {
    Status.cuda(
        cuda_runtime_api_h.cudaMemcpy(
            errorCopy, seg(errorWord), DeviceErrors.BYTES, cuda_runtime_api_h.cudaMemcpyDeviceToHost()),
        "cudaMemcpy(error word)");
    long kind = errorCopy.get(JAVA_LONG, 0);
    if (kind != 0) {
      Status.cuda(
          cuda_runtime_api_h.cudaMemsetAsync(seg(errorWord), 0, DeviceErrors.BYTES, stream),
          "cudaMemsetAsync(error word)");
      sync("clearing the error word");
      throw DeviceErrors.describe(
          kind, errorCopy.get(JAVA_LONG, 8), errorCopy.get(JAVA_LONG, 16), errorCopy.get(JAVA_LONG, 24));
    }
  }

  // ---------------------------------------------------------------- convolution

  private ConvolutionPlan convolution(Conv2dOp op, Shape x) {
    ConvolutionPlan.Key key = new ConvolutionPlan.Key(op, x.dim(0), x.dim(2), x.dim(3));
    ConvolutionPlan p = convolutions.get(key);
    if (p == null) {
      p = ConvolutionPlan.create(key, exactMath);
      convolutions.put(key, p);
    }
    return p;
  }

  private Choice choice(Pass pass, ConvolutionPlan p, long x, long w, long y) {
    Choice c = p.choice(pass);
    if (c == null) {
      c = algorithms.choose(pass, p, handle, convWorkspace, x, w, y);
      p.remember(pass, c);
    }
    return c;
  }

  /** The weight the convolution sees: {@code w} itself, or {@code w ⊙ mask} in scratch memory. */
  private long weight(Tensor w, Tensor mask) {
    if (mask == null) {
      return address(w);
    }
    long scratch = maskedWeights.ensure(w.byteSize());
    kernels.maskMultiply(address(w), address(mask), scratch, w.shape().elements());
    return scratch;
  }

  @Override
  protected void doConv2d(Conv2dOp op, Tensor x, Tensor w, Tensor mask, Tensor bias, Tensor y) {
    enter();
    ConvolutionPlan p = convolution(op, x.shape());
    long wp = weight(w, mask);
    Choice c = choice(Pass.FORWARD, p, address(x), wp, address(y));
    long ws = convWorkspace.ensure(c.workspaceBytes());
    Status.cudnn(
        cudnn_h.cudnnConvolutionForward(
            handle, ONE, p.x, seg(x), p.w, seg(wp), p.convolution, c.algorithm(), seg(ws),
            c.workspaceBytes(), ZERO, p.y, seg(y)),
        () -> "cudnnConvolutionForward(" + p + ", " + c + ") into " + y.describe());
    if (bias != null) {
      Status.cudnn(
          cudnn_h.cudnnAddTensor(handle, ONE, p.bias, seg(bias), ONE, p.y, seg(y)),
          () -> "cudnnAddTensor(" + bias.describe() + " onto " + y.describe() + ")");
    }
  }

  @Override
  protected void doConv2dBackwardData(Conv2dOp op, Tensor dy, Tensor w, Tensor mask, Tensor dx) {
    enter();
    ConvolutionPlan p = convolution(op, dx.shape());
    long wp = weight(w, mask);
    Choice c = choice(Pass.BACKWARD_DATA, p, address(dx), wp, address(dy));
    long ws = convWorkspace.ensure(c.workspaceBytes());
    Status.cudnn(
        cudnn_h.cudnnConvolutionBackwardData(
            handle, ONE, p.w, seg(wp), p.y, seg(dy), p.convolution, c.algorithm(), seg(ws),
            c.workspaceBytes(), ZERO, p.x, seg(dx)),
        () -> "cudnnConvolutionBackwardData(" + p + ", " + c + ") into " + dx.describe());
  }

  @Override
  protected void doConv2dBackwardFilter(
      Conv2dOp op, Tensor x, Tensor dy, Tensor mask, Tensor dw, Tensor dbias) {
    enter();
    ConvolutionPlan p = convolution(op, x.shape());
    Choice c = choice(Pass.BACKWARD_FILTER, p, address(x), address(dw), address(dy));
    long ws = convWorkspace.ensure(c.workspaceBytes());
    Status.cudnn(
        cudnn_h.cudnnConvolutionBackwardFilter(
            handle, ONE, p.x, seg(x), p.y, seg(dy), p.convolution, c.algorithm(), seg(ws),
            c.workspaceBytes(), ZERO, p.w, seg(dw)),
        () -> "cudnnConvolutionBackwardFilter(" + p + ", " + c + ") into " + dw.describe());
    if (mask != null) {
      // Masked-out weights get no gradient (they never reach the output).
      kernels.maskMultiply(address(dw), address(mask), address(dw), dw.shape().elements());
    }
    if (dbias != null) {
      Status.cudnn(
          cudnn_h.cudnnConvolutionBackwardBias(handle, ONE, p.y, seg(dy), ZERO, p.bias, seg(dbias)),
          () -> "cudnnConvolutionBackwardBias(" + dy.describe() + " into " + dbias.describe() + ")");
    }
  }

  // ---------------------------------------------------------------- activations

  @Override
  protected void doGate(Tensor pre, Tensor out) {
    enter();
    kernels.gate(pre, out);
  }


  @Override
  protected void doGateBackward(Tensor pre, Tensor dout, Tensor dpre) {
    enter();
    kernels.gateBackward(pre, dout, dpre);
  }


  @Override
  protected void doRelu(Tensor x, Tensor y) {
    enter();
    MemorySegment d = descriptor(x.shape());
    Status.cudnn(
        cudnn_h.cudnnActivationForward(handle, relu, ONE, d, seg(x), ZERO, d, seg(y)),
        () -> "cudnnActivationForward(relu, " + x.describe() + " -> " + y.describe() + ")");
  }

  @Override
  protected void doReluBackward(Tensor x, Tensor dy, Tensor dx) {
    enter();
    MemorySegment d = descriptor(x.shape());
    // cuDNN wants the forward output y too; relu(x) > 0 exactly where x > 0, so x stands in for it.
    Status.cudnn(
        cudnn_h.cudnnActivationBackward(
            handle, relu, ONE, d, seg(x), d, seg(dy), d, seg(x), ZERO, d, seg(dx)),
        () -> "cudnnActivationBackward(relu, " + dy.describe() + " -> " + dx.describe() + ")");
  }

  /**
   * A packed float32 descriptor for an elementwise cuDNN op: the shape itself when it has rank 4,
   * else all elements along C.
   */
  private MemorySegment descriptor(Shape s) {
    List<Integer> dims =
        s.rank() == 4 ? s.dims() : List.of(1, Math.toIntExact(s.elements()), 1, 1);
    return descriptor(dims);
  }

  private MemorySegment descriptor(List<Integer> dims) {
    MemorySegment d = tensorDescriptors.get(dims);
    if (d == null) {
      d = Descriptors.tensor(dims.get(0), dims.get(1), dims.get(2), dims.get(3));
      tensorDescriptors.put(dims, d);
    }
    return d;
  }

  // ---------------------------------------------------------------- elementwise

  @Override
  protected void doAdd(Tensor a, Tensor b, Tensor out) {
    enter();
    kernels.add(a, b, out);
  }


  @Override
  protected void doScale(Tensor x, double alpha, Tensor out) {
    enter();
    kernels.scale(x, alpha, out);
  }


  @Override
  protected void doAddChannelBias(Tensor x, Tensor bias, Tensor out) {
    enter();
    kernels.addChannelBias(x, bias, out);
  }


  @Override
  protected void doSumSpatial(Tensor dy, Tensor out) {
    enter();
    kernels.sumSpatial(dy, out);
  }


  @Override
  protected void doDequantize(Tensor x, int levels, Tensor out) {
    enter();
    kernels.dequantize(x, levels, out);
  }


  // ---------------------------------------------------------------- layout

  /** A sample's channels are contiguous, so each part is one strided 2-D copy: N rows. */
  @Override
  protected void doConcatChannels(List<Tensor> parts, Tensor out) {
    enter();
    int n = out.shape().dim(0);
    long outRow = out.byteSize() / n;
    long offset = 0;
    for (Tensor p : parts) {
      long partRow = p.byteSize() / n;
      copy2d(address(out) + offset, outRow, address(p), partRow, partRow, n, "concatChannels " + p.describe());
      offset += partRow;
    }
  }

  @Override
  protected void doSplitChannels(Tensor in, List<Tensor> parts) {
    enter();
    int n = in.shape().dim(0);
    long inRow = in.byteSize() / n;
    long offset = 0;
    for (Tensor p : parts) {
      long partRow = p.byteSize() / n;
      copy2d(address(p), partRow, address(in) + offset, inRow, partRow, n, "splitChannels " + p.describe());
      offset += partRow;
    }
  }

  private void copy2d(long dst, long dpitch, long src, long spitch, long width, long height, String what) {
    Status.cuda(
        cuda_runtime_api_h.cudaMemcpy2DAsync(
            seg(dst), dpitch, seg(src), spitch, width, height,
            cuda_runtime_api_h.cudaMemcpyDeviceToDevice(), stream),
        () -> "cudaMemcpy2DAsync(" + what + ")");
  }

  @Override
  protected void doSpaceToDepth(Tensor x, int block, Tensor out) {
    rearrange(x, out, x.shape(), block, true);
  }

  @Override
  protected void doDepthToSpace(Tensor x, int block, Tensor out) {
    rearrange(x, out, out.shape(), block, false);
  }

  private void rearrange(Tensor in, Tensor out, Shape space, int block, boolean toDepth) {
    enter();
    kernels.rearrange(in, out, space, block, toDepth);
  }


  @Override
  protected void doCopy(Tensor src, Tensor dst) {
    enter();
    Status.cuda(
        cuda_runtime_api_h.cudaMemcpyAsync(
            seg(dst), seg(src), src.byteSize(), cuda_runtime_api_h.cudaMemcpyDeviceToDevice(), stream),
        () -> "cudaMemcpyAsync(" + src.describe() + " -> " + dst.describe() + ")");
  }

  @Override
  protected void doFill(Tensor t, double value) {
    enter();
    switch (t.dtype()) {
      case UINT8 ->
          Status.cuda(
              cuda_runtime_api_h.cudaMemsetAsync(seg(t), (int) value, t.byteSize(), stream),
              () -> "cudaMemsetAsync(" + t.describe() + ", " + (int) value + ")");
      case FLOAT32, INT32 -> kernels.fill(t, value);
    }
  }

  // ---------------------------------------------------------------- likelihood and sampling

  @Override
  protected void doSoftmaxCrossEntropy(Tensor logits, Tensor targets, Tensor nll) {
    enter();
    kernels.softmaxCrossEntropy(logits, targets, nll);
  }


  @Override
  protected void doSoftmaxCrossEntropyBackward(
      Tensor logits, Tensor targets, Tensor dnll, Tensor dlogits) {
    enter();
    Shape t = targets.shape();
    int levels = logits.shape().dim(1) / t.dim(1);
    // The L logits of a sub-pixel are one cuDNN "channel" axis once [N, C·L, H, W] is read as
    // [N·C, L, H, W]: cuDNN writes softmax(z) into dlogits, the kernel turns it into the gradient.
    MemorySegment d = descriptor(List.of(t.dim(0) * t.dim(1), levels, t.dim(2), t.dim(3)));
    Status.cudnn(
        cudnn_h.cudnnSoftmaxForward(
            handle, cudnn_h.CUDNN_SOFTMAX_ACCURATE(), cudnn_h.CUDNN_SOFTMAX_MODE_CHANNEL(), ONE, d,
            seg(logits), ZERO, d, seg(dlogits)),
        () -> "cudnnSoftmaxForward(" + logits.describe() + " -> " + dlogits.describe() + ")");
    kernels.softmaxCrossEntropyBackward(targets, dnll, dlogits);
  }

  @Override
  protected void doSampleCategorical(Tensor logits, Tensor uniforms, Tensor out) {
    enter();
    kernels.sampleCategorical(logits, uniforms, out);
  }


  // ---------------------------------------------------------------- dense

  @Override
  protected void doEmbeddingLookup(Tensor table, Tensor indices, Tensor out) {
    enter();
    kernels.embeddingLookup(table, indices, out);
  }


  @Override
  protected void doEmbeddingBackward(Tensor indices, Tensor dout, Tensor dtable) {
    enter();
    kernels.embeddingBackward(indices, dout, dtable);
  }


  @Override
  protected void doMatmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor out) {
    enter();
    kernels.matmul(a, transposeA, b, transposeB, out);
  }


  @Override
  protected void doSum(Tensor x, Tensor out) {
    reduce(x, out, false);
  }

  @Override
  protected void doSumOfSquares(Tensor x, Tensor out) {
    reduce(x, out, true);
  }

  private void reduce(Tensor x, Tensor out, boolean squares) {
    enter();
    kernels.reduce(x, out, squares);
  }


  // ---------------------------------------------------------------- optimiser

  @Override
  protected void doAdamUpdate(AdamOp op, long step, Tensor param, Tensor grad, Tensor m, Tensor v) {
    enter();
    kernels.adam(op, step, param, grad, m, v);
  }


  // ---------------------------------------------------------------- lifetime

  /**
   * Waits for the stream, frees every tensor and workspace still open (naming them in a {@link
   * MemoryLeakException}), and destroys the stream, the cuDNN handle and every descriptor.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    device.bindToCurrentThread();
    RuntimeException failure = null;
    try {
      sync("close");
    } catch (RuntimeException e) {
      failure = e;
    }
    MemoryLeakException leaks = live.leakReport();
    for (Object h : live.handles()) {
      Allocation a = (Allocation) h;
      live.remove(a, a.bytes());
      try {
        DeviceBuffer.free(a.address(), "a tensor left open at close");
      } catch (RuntimeException e) {
        failure = failure == null ? e : failure;
      }
    }
    closed = true;
    try {
      runTeardown(null);
    } catch (RuntimeException e) {
      failure = failure == null ? e : failure;
    }
    if (failure != null) {
      if (leaks != null) {
        failure.addSuppressed(leaks);
      }
      throw failure;
    }
    if (leaks != null) {
      throw leaks;
    }
  }

  private void destroyDescriptors() {
    RuntimeException first = null;
    for (ConvolutionPlan p : convolutions.values()) {
      try {
        p.destroy();
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    convolutions.clear();
    for (MemorySegment d : tensorDescriptors.values()) {
      try {
        Descriptors.destroy(Descriptors.Kind.TENSOR, d);
      } catch (RuntimeException e) {
        first = first == null ? e : first;
      }
    }
    tensorDescriptors.clear();
    if (first != null) {
      throw first;
    }
  }

  /** Runs every clean-up step, newest first, even when one fails; throws the first failure. */
  private void runTeardown(RuntimeException cause) {
    RuntimeException first = null;
    while (!teardown.isEmpty()) {
      try {
        teardown.pop().run();
      } catch (RuntimeException e) {
        if (cause != null) {
          cause.addSuppressed(e);
        } else if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("backend " + name + " is closed");
    }
  }

  /** Every op starts here: the backend is open and the device is this thread's. */
  private void enter() {
    checkOpen();
    device.bindToCurrentThread();
  }

  private static long address(Tensor t) {
    return ((DeviceTensor) t).address();
  }

  private static MemorySegment seg(Tensor t) {
    return MemorySegment.ofAddress(address(t));
  }

  private static MemorySegment seg(long address) {
    return MemorySegment.ofAddress(address);
  }
}
