package dev.mspx.backend.cpu;

/**
 * The kernel taps a masked convolution really uses: those where the mask is non-zero for at least one
 * (out, in) pair, in row-major kernel order. A PixelCNN mask zeroes whole rows and columns of taps (the
 * vertical stack's 3×5 of a 5×5 kernel, the horizontal stack's 1×3), so convolving over these alone
 * skips most multiplications by zero, as the peer's {@code MaskedConv2d} does by cropping to the
 * bounding box. Taps inside the box that the mask zeroes for every pair are skipped too.
 *
 * <p>Each tap is kept as its kernel position {@code (ky, kx)} and as the offset {@code (dy, dx)} from
 * an output pixel to the input pixel it reads: {@code dy = ky - kH/2}, {@code dx = kx - kW/2}.
 */
final class ConvTaps {

  final int kernelHeight;
  final int kernelWidth;
  final int[] ky;
  final int[] kx;

  private ConvTaps(int kernelHeight, int kernelWidth, int[] ky, int[] kx) {
    this.kernelHeight = kernelHeight;
    this.kernelWidth = kernelWidth;
    this.ky = ky;
    this.kx = kx;
  }

  /**
   * The taps of a {@code [out, in, kH, kW]} weight that {@code mask} keeps for some (out, in) pair;
   * every tap when {@code mask} is null.
   */
  static ConvTaps used(float[] mask, int pairs, int kernelHeight, int kernelWidth) {
    int taps = kernelHeight * kernelWidth;
    boolean[] used = new boolean[taps];
    int count = 0;
    if (mask == null) {
      java.util.Arrays.fill(used, true);
      count = taps;
    } else {
      for (int pair = 0; pair < pairs && count < taps; pair++) {
        int base = pair * taps;
        for (int t = 0; t < taps; t++) {
          if (!used[t] && mask[base + t] != 0) {
            used[t] = true;
            count++;
          }
        }
      }
    }
    int[] ky = new int[count];
    int[] kx = new int[count];
    int k = 0;
    for (int t = 0; t < taps; t++) {
      if (used[t]) {
        ky[k] = t / kernelWidth;
        kx[k] = t % kernelWidth;
        k++;
      }
    }
    return new ConvTaps(kernelHeight, kernelWidth, ky, kx);
  }

  int count() {
    return ky.length;
  }

  /** Flat index of tap {@code t} inside one (out, in) kernel of {@code kH·kW}. */
  int kernelIndex(int t) {
    return ky[t] * kernelWidth + kx[t];
  }

  /** Row offset from an output pixel to the input pixel of tap {@code t} (forward). */
  int dy(int t) {
    return ky[t] - kernelHeight / 2;
  }

  /** Column offset from an output pixel to the input pixel of tap {@code t} (forward). */
  int dx(int t) {
    return kx[t] - kernelWidth / 2;
  }
}
