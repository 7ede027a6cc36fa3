package dev.mspx.api;

import org.immutables.value.Value;

/**
 * A 2-D convolution layer: stride 1, "same" zero padding ({@code kernelHeight/2}, {@code
 * kernelWidth/2}), cross-correlation as in every deep-learning framework, odd kernel sides. Masked
 * layers (PixelCNN masks A/B, vertical and horizontal stacks, colour masks) pass a 0/1 weight mask of
 * the weight's shape with each call; the backend convolves with {@code weight ⊙ mask}.
 *
 * <p>A descriptor is a value: backends may key cached algorithm choices and descriptors on it.
 */
@Value.Immutable
public abstract class Conv2dOp {

  Conv2dOp() {}

  public abstract int inChannels();

  public abstract int outChannels();

  public abstract int kernelHeight();

  public abstract int kernelWidth();

  /** Shorthand for a square kernel. */
  public static Conv2dOp of(int inChannels, int outChannels, int kernel) {
    return of(inChannels, outChannels, kernel, kernel);
  }

  public static Conv2dOp of(int inChannels, int outChannels, int kernelHeight, int kernelWidth) {
    return ImmutableConv2dOp.builder()
        .inChannels(inChannels)
        .outChannels(outChannels)
        .kernelHeight(kernelHeight)
        .kernelWidth(kernelWidth)
        .build();
  }

  @Value.Check
  protected void check() {
    if (inChannels() < 1 || outChannels() < 1) {
      throw new IllegalArgumentException(
          "conv2d: channels must be >= 1, got in=" + inChannels() + " out=" + outChannels());
    }
    if (kernelHeight() < 1 || kernelWidth() < 1 || kernelHeight() % 2 == 0 || kernelWidth() % 2 == 0) {
      throw new IllegalArgumentException(
          "conv2d: kernel sides must be odd and >= 1 (same padding), got "
              + kernelHeight()
              + "x"
              + kernelWidth());
    }
  }

  /** The weight shape {@code [out, in, kH, kW]}. */
  public Shape weightShape() {
    return Shape.of(outChannels(), inChannels(), kernelHeight(), kernelWidth());
  }

  public int padHeight() {
    return kernelHeight() / 2;
  }

  public int padWidth() {
    return kernelWidth() / 2;
  }

  @Override
  public String toString() {
    return "conv2d(" + inChannels() + "->" + outChannels() + ", " + kernelHeight() + "x" + kernelWidth() + ")";
  }
}
