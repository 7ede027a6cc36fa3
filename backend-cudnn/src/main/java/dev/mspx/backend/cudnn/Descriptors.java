package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;

import dev.mspx.backend.cudnn.bindings.cudnn_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Creating and destroying cuDNN descriptors, every status checked. */
final class Descriptors {

  private Descriptors() {}

  /** A packed float32 NCHW tensor descriptor. */
  static MemorySegment tensor(int n, int c, int h, int w) {
    MemorySegment d = create("cudnnCreateTensorDescriptor", Kind.TENSOR);
    try {
      Status.cudnn(
          cudnn_h.cudnnSetTensor4dDescriptor(
              d, cudnn_h.CUDNN_TENSOR_NCHW(), cudnn_h.CUDNN_DATA_FLOAT(), n, c, h, w),
          () -> "cudnnSetTensor4dDescriptor(float [" + n + ", " + c + ", " + h + ", " + w + "])");
    } catch (RuntimeException e) {
      destroyQuietly(Kind.TENSOR, d);
      throw e;
    }
    return d;
  }

  /** A float32 KCRS filter descriptor: {@code [out, in, kH, kW]}. */
  static MemorySegment filter(int out, int in, int kh, int kw) {
    MemorySegment d = create("cudnnCreateFilterDescriptor", Kind.FILTER);
    try {
      Status.cudnn(
          cudnn_h.cudnnSetFilter4dDescriptor(
              d, cudnn_h.CUDNN_DATA_FLOAT(), cudnn_h.CUDNN_TENSOR_NCHW(), out, in, kh, kw),
          () -> "cudnnSetFilter4dDescriptor(float [" + out + ", " + in + ", " + kh + ", " + kw + "])");
    } catch (RuntimeException e) {
      destroyQuietly(Kind.FILTER, d);
      throw e;
    }
    return d;
  }

  /**
   * Stride 1, no dilation, cross-correlation (as the SPI and every framework), float32 compute.
   *
   * @param exactMath FMA kernels only (no TF32 tensor cores), for float32 results
   */
  static MemorySegment convolution(int padH, int padW, boolean exactMath) {
    MemorySegment d = create("cudnnCreateConvolutionDescriptor", Kind.CONVOLUTION);
    try {
      Status.cudnn(
          cudnn_h.cudnnSetConvolution2dDescriptor(
              d, padH, padW, 1, 1, 1, 1, cudnn_h.CUDNN_CROSS_CORRELATION(), cudnn_h.CUDNN_DATA_FLOAT()),
          () -> "cudnnSetConvolution2dDescriptor(pad " + padH + "x" + padW + ")");
      Status.cudnn(
          cudnn_h.cudnnSetConvolutionMathType(
              d, exactMath ? cudnn_h.CUDNN_FMA_MATH() : cudnn_h.CUDNN_DEFAULT_MATH()),
          "cudnnSetConvolutionMathType");
    } catch (RuntimeException e) {
      destroyQuietly(Kind.CONVOLUTION, d);
      throw e;
    }
    return d;
  }

  /** ReLU: {@code max(x, 0)}, NaN not propagated (as the reference's {@code x > 0 ? x : 0}). */
  static MemorySegment relu() {
    MemorySegment d = create("cudnnCreateActivationDescriptor", Kind.ACTIVATION);
    try {
      Status.cudnn(
          cudnn_h.cudnnSetActivationDescriptor(
              d, cudnn_h.CUDNN_ACTIVATION_RELU(), cudnn_h.CUDNN_NOT_PROPAGATE_NAN(), 0.0),
          "cudnnSetActivationDescriptor(relu)");
    } catch (RuntimeException e) {
      destroyQuietly(Kind.ACTIVATION, d);
      throw e;
    }
    return d;
  }

  enum Kind {
    TENSOR,
    FILTER,
    CONVOLUTION,
    ACTIVATION
  }

  private static MemorySegment create(String call, Kind kind) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ADDRESS);
      int status =
          switch (kind) {
            case TENSOR -> cudnn_h.cudnnCreateTensorDescriptor(out);
            case FILTER -> cudnn_h.cudnnCreateFilterDescriptor(out);
            case CONVOLUTION -> cudnn_h.cudnnCreateConvolutionDescriptor(out);
            case ACTIVATION -> cudnn_h.cudnnCreateActivationDescriptor(out);
          };
      Status.cudnn(status, call);
      return out.get(ADDRESS, 0);
    }
  }

  static void destroy(Kind kind, MemorySegment d) {
    int status =
        switch (kind) {
          case TENSOR -> cudnn_h.cudnnDestroyTensorDescriptor(d);
          case FILTER -> cudnn_h.cudnnDestroyFilterDescriptor(d);
          case CONVOLUTION -> cudnn_h.cudnnDestroyConvolutionDescriptor(d);
          case ACTIVATION -> cudnn_h.cudnnDestroyActivationDescriptor(d);
        };
    Status.cudnn(status, () -> "cudnnDestroy" + kind + "Descriptor");
  }

  /** For clean-up after an earlier failure, which is the one worth reporting. */
  static void destroyQuietly(Kind kind, MemorySegment d) {
    try {
      destroy(kind, d);
    } catch (RuntimeException ignored) {
      // the caller is already throwing the first error
    }
  }
}
