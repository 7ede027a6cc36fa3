package dev.mspx.backend.cudnn;

import dev.mspx.api.Conv2dOp;
import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.Map;

/**
 * The cuDNN descriptors of one convolution layer at one input size, and the algorithm chosen for
 * each of its passes. Created on first use and kept until the backend closes: a plan runs the same
 * layers at the same sizes every step, so descriptors and choices are made once.
 */
final class ConvolutionPlan {

  /** A layer at an input size: what cuDNN's choice depends on. */
  record Key(Conv2dOp op, int batch, int height, int width) {}

  /** The three passes of a convolution, by the cuDNN function that runs them. */
  enum Pass {
    FORWARD("cudnnConvolutionForward"),
    BACKWARD_DATA("cudnnConvolutionBackwardData"),
    BACKWARD_FILTER("cudnnConvolutionBackwardFilter");

    final String function;

    Pass(String function) {
      this.function = function;
    }
  }

  /**
   * An algorithm for one pass and the workspace it needs.
   *
   * @param algorithm the cudnnConvolution*Algo_t value
   * @param workspaceBytes what {@code cudnnGet*WorkspaceSize} asks for it
   * @param how how it was chosen, for logs and errors
   */
  record Choice(int algorithm, long workspaceBytes, String how) {
    @Override
    public String toString() {
      return "algo " + algorithm + ", workspace " + workspaceBytes + " bytes, " + how;
    }
  }

  final Key key;
  /** The input x (and dx) {@code [N, Cin, H, W]}. */
  final MemorySegment x;
  /** The output y (and dy) {@code [N, Cout, H, W]}. */
  final MemorySegment y;
  /** The weight (and dw) {@code [Cout, Cin, kH, kW]}. */
  final MemorySegment w;
  /** The bias (and dbias) as {@code [1, Cout, 1, 1]}. */
  final MemorySegment bias;
  final MemorySegment convolution;
  private final Map<Pass, Choice> choices = new EnumMap<>(Pass.class);

  private ConvolutionPlan(
      Key key, MemorySegment x, MemorySegment y, MemorySegment w, MemorySegment bias, MemorySegment c) {
    this.key = key;
    this.x = x;
    this.y = y;
    this.w = w;
    this.bias = bias;
    this.convolution = c;
  }

  /** Creates the descriptors; on failure, destroys those already made. */
  static ConvolutionPlan create(Key key, boolean exactMath) {
    Conv2dOp op = key.op();
    MemorySegment x = null;
    MemorySegment y = null;
    MemorySegment w = null;
    MemorySegment bias = null;
    try {
      x = Descriptors.tensor(key.batch(), op.inChannels(), key.height(), key.width());
      y = Descriptors.tensor(key.batch(), op.outChannels(), key.height(), key.width());
      w = Descriptors.filter(op.outChannels(), op.inChannels(), op.kernelHeight(), op.kernelWidth());
      bias = Descriptors.tensor(1, op.outChannels(), 1, 1);
      MemorySegment c = Descriptors.convolution(op.padHeight(), op.padWidth(), exactMath);
      return new ConvolutionPlan(key, x, y, w, bias, c);
    } catch (RuntimeException e) {
      for (MemorySegment t : new MemorySegment[] {x, y, bias}) {
        if (t != null) {
          Descriptors.destroyQuietly(Descriptors.Kind.TENSOR, t);
        }
      }
      if (w != null) {
        Descriptors.destroyQuietly(Descriptors.Kind.FILTER, w);
      }
      throw e;
    }
  }

  Choice choice(Pass pass) {
    return choices.get(pass);
  }

  void remember(Pass pass, Choice choice) {
    choices.put(pass, choice);
  }

  /** Destroys every descriptor, reporting the first failure after trying them all. */
  void destroy() {
    RuntimeException first = null;
    Object[][] all = {
      {Descriptors.Kind.TENSOR, x},
      {Descriptors.Kind.TENSOR, y},
      {Descriptors.Kind.FILTER, w},
      {Descriptors.Kind.TENSOR, bias},
      {Descriptors.Kind.CONVOLUTION, convolution}
    };
    for (Object[] d : all) {
      try {
        Descriptors.destroy((Descriptors.Kind) d[0], (MemorySegment) d[1]);
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  @Override
  public String toString() {
    return key.op() + " at [" + key.batch() + ", " + key.op().inChannels() + ", " + key.height() + ", "
        + key.width() + "]";
  }
}
