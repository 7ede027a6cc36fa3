package dev.mspx.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Convolution kernels of {@link CpuVectorBackend}: forward, backward-data and backward-filter, as an
 * implicit GEMM over a channels-last copy of the input.
 *
 * <h2>Layout</h2>
 *
 * The SPI's tensors are {@code NCHW}. Each call first copies its input into {@code xp}, a zero-padded
 * channels-last array {@code [N][H+pads][W+pads][C]}, and the weight (times its mask) into {@code wt
 * [tap][C][Cout']} with {@code Cout'} the output channels rounded up to a whole vector. Output channels
 * then lie along the vector lanes, and an output pixel's input for one tap is the {@code C} contiguous
 * floats at a fixed offset from the pixel's own base: the padding takes care of the borders, so the
 * inner loop has no bounds logic and no im2col matrix is ever built. The copy costs {@code N·H·W·C}
 * moves against {@code N·H·W·Cout·taps·C} multiply-adds. Only the taps the mask uses ({@link
 * ConvTaps}) are packed and visited, and the padding covers only their offsets, so a 5×5 vertical-stack
 * kernel costs 15 taps and a horizontal one 3 (2 in the first layer); a 1×1 convolution is a plain
 * GEMM of the pixels by the weight.
 *
 * <h2>Register tile</h2>
 *
 * The micro-kernel computes {@value #MR} output pixels × {@value #NRV} vectors of output channels (24
 * accumulators of the 32 AVX-512 registers): per input channel and tap it loads {@value #NRV} weight
 * vectors, broadcasts one input value per pixel and issues 24 FMAs. Pixels of a tile need not be
 * neighbours (each has its own base offset), so tiles run across row and image ends and only the last
 * tile is partial; its missing pixels repeat the last pixel, computing and storing the same values.
 *
 * <h2>Backward</h2>
 *
 * Backward-data is the forward kernel applied to {@code dy} with the taps mirrored ({@code -dy, -dx})
 * and the weight transposed to {@code [tap][Cout][Cin']}. Backward-filter contracts over pixels: rows
 * are (tap, input channel) pairs, lanes are output channels, and each row's input is read at its tap's
 * offset from every pixel's base.
 *
 * <h2>Threads</h2>
 *
 * The copies run one image per task; the forward loop one chunk of register tiles per task (at least
 * eight per thread); backward-filter one group of tiles × one block of output channels per task, each
 * sweeping all pixels in blocks so that a block's gradient rows are reused from L2 by the whole group.
 *
 * <h2>Accumulation order (float32)</h2>
 *
 * Forward and backward-data: one FMA chain per output element, taps in row-major kernel order, input
 * channels ascending within a tap; the bias is added to the finished sum. Backward-filter and the bias gradient: pixels in order {@code (n, h,
 * w)}, summed in blocks of {@value #PIXEL_BLOCK} in registers, the block sums added in order. The
 * order never depends on the thread count or on which thread ran a task, so results are reproducible
 * bit for bit.
 *
 * <p>Not thread-safe: the scratch arrays are shared; {@link CpuVectorBackend} serialises calls.
 */
final class VectorConvolution {

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();

  /** Output pixels per register tile. */
  static final int MR = 6;

  /** Vectors of output channels per register tile. */
  static final int NRV = 4;

  /** Pixels summed in registers before a block sum is added (backward-filter, bias gradient). */
  static final int PIXEL_BLOCK = 256;

  /** Most register tiles per task of the forward loop (its output tile stays in L2). */
  private static final int CHUNK_TILES = 32;

  /** Fewest tasks per thread of the forward loop, so that a descheduled thread's share is small. */
  private static final int CHUNKS_PER_THREAD = 8;

  private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private final WorkerPool pool;
  private float[] xp = new float[0];
  private float[] wt = new float[0];
  private float[] dyt = new float[0];
  private float[] dwt = new float[0];
  private float[] dwOut = new float[0];
  private int[] pixelBase = new int[0];
  private final float[][] tiles;
  private final float[][] stages;

  VectorConvolution(WorkerPool pool) {
    this.pool = pool;
    this.tiles = new float[pool.threads()][];
    this.stages = new float[pool.threads()][];
    Arrays.setAll(tiles, i -> new float[0]);
    Arrays.setAll(stages, i -> new float[0]);
  }

  /**
   * Worker {@code worker}'s staging array holding image {@code b} of an {@code NCHW} tensor with
   * {@code floats} elements per image: one bulk copy, so that the transposes that follow read a Java
   * array (bounds checks hoisted) instead of going through the segment element by element.
   */
  private float[] stage(MemorySegment t, int b, int floats, int worker) {
    float[] st = stages[worker] = grow(stages[worker], floats, "staging");
    MemorySegment.copy(t, ValueLayout.JAVA_FLOAT, (long) b * floats * 4, st, 0, floats);
    return st;
  }

  // ================================================================ geometry

  /**
   * Where the input of every tap lies in the padded channels-last copy: the padding covers the
   * furthest tap offset on each side, so that every read stays inside one image's padded plane.
   */
  private static final class Layout {
    final int n;
    final int c;
    final int h;
    final int w;
    final int top;
    final int left;
    final int hp;
    final int wp;
    final int[] tapOffset;

    Layout(int n, int c, int h, int w, int[] dy, int[] dx) {
      int minY = 0, maxY = 0, minX = 0, maxX = 0;
      for (int t = 0; t < dy.length; t++) {
        minY = Math.min(minY, dy[t]);
        maxY = Math.max(maxY, dy[t]);
        minX = Math.min(minX, dx[t]);
        maxX = Math.max(maxX, dx[t]);
      }
      this.n = n;
      this.c = c;
      this.h = h;
      this.w = w;
      this.top = -minY;
      this.left = -minX;
      this.hp = h + top + maxY;
      this.wp = w + left + maxX;
      this.tapOffset = new int[dy.length];
      for (int t = 0; t < dy.length; t++) {
        tapOffset[t] = ((dy[t] + top) * wp + (dx[t] + left)) * c;
      }
      checkSize((long) n * hp * wp * c, "padded input");
    }

    int paddedFloats() {
      return n * hp * wp * c;
    }

    int pixels() {
      return n * h * w;
    }
  }

  private static int checkSize(long floats, String what) {
    if (floats > Integer.MAX_VALUE - 64) {
      throw new IllegalArgumentException(
          "vector conv2d: the "
              + what
              + " needs "
              + floats
              + " floats, more than one Java array holds; use a smaller batch or the reference kernels"
              + " (-Dmspx.cpu.kernels=reference)");
    }
    return (int) floats;
  }

  /** {@code {0, stride, 2·stride, ...}}: the lanes of a gather down a column of stride {@code stride}. */
  private static int[] strides(int stride) {
    int[] m = new int[L];
    for (int i = 0; i < L; i++) {
      m[i] = i * stride;
    }
    return m;
  }

  private static int roundUp(int v, int m) {
    return (v + m - 1) / m * m;
  }

  private static float[] grow(float[] a, long size, String what) {
    int s = checkSize(size, what);
    return a.length >= s ? a : new float[Math.max(s, a.length + a.length / 2)];
  }

  // ================================================================ forward and backward-data

  /**
   * {@code y = conv(x, wm) + bias} over the used taps. {@code wm} is the masked weight {@code [co,
   * ci, kh, kw]}; {@code bias} may be null.
   */
  void forward(
      MemorySegment x,
      int n,
      int ci,
      int co,
      int h,
      int w,
      float[] wm,
      ConvTaps taps,
      float[] bias,
      MemorySegment y) {
    int t = taps.count();
    int coP = roundUp(co, L);
    int khw = taps.kernelHeight * taps.kernelWidth;
    wt = grow(wt, (long) t * ci * coP, "packed weight");
    float[] packed = wt;
    Arrays.fill(packed, 0, t * ci * coP, 0f);
    int[] dy = new int[t];
    int[] dx = new int[t];
    for (int k = 0; k < t; k++) {
      dy[k] = taps.dy(k);
      dx[k] = taps.dx(k);
      int kidx = taps.kernelIndex(k);
      for (int o = 0; o < co; o++) {
        for (int c = 0; c < ci; c++) {
          packed[(k * ci + c) * coP + o] = wm[(o * ci + c) * khw + kidx];
        }
      }
    }
    convolve(x, new Layout(n, ci, h, w, dy, dx), packed, co, coP, bias, y);
  }

  /**
   * {@code dx = convᵀ(dy, wm)}: the forward kernel on {@code dy} with mirrored taps and the weight
   * transposed.
   */
  void backwardData(
      MemorySegment dyIn,
      int n,
      int ci,
      int co,
      int h,
      int w,
      float[] wm,
      ConvTaps taps,
      MemorySegment dxOut) {
    int t = taps.count();
    int ciP = roundUp(ci, L);
    int khw = taps.kernelHeight * taps.kernelWidth;
    wt = grow(wt, (long) t * co * ciP, "packed weight");
    float[] packed = wt;
    Arrays.fill(packed, 0, t * co * ciP, 0f);
    int[] dy = new int[t];
    int[] dx = new int[t];
    for (int k = 0; k < t; k++) {
      dy[k] = -taps.dy(k);
      dx[k] = -taps.dx(k);
      int kidx = taps.kernelIndex(k);
      for (int o = 0; o < co; o++) {
        for (int c = 0; c < ci; c++) {
          packed[(k * co + o) * ciP + c] = wm[(o * ci + c) * khw + kidx];
        }
      }
    }
    convolve(dyIn, new Layout(n, co, h, w, dy, dx), packed, ci, ciP, null, dxOut);
  }

  /** Output {@code [n, cout, h, w]} from input {@code [n, g.c, h, w]} and packed weights. */
  private void convolve(
      MemorySegment in, Layout g, float[] packed, int cout, int coutP, float[] bias, MemorySegment out) {
    if (g.tapOffset.length == 0) {
      writeBiasOnly(out, g.n, cout, g.h * g.w, bias);
      return;
    }
    int hw = g.h * g.w;
    int[] across = strides(coutP);
    xp = grow(xp, g.paddedFloats(), "padded input");
    if (pixelBase.length < g.pixels()) {
      pixelBase = new int[g.pixels()];
    }
    float[] src = xp;
    int[] bases = pixelBase;
    int threads = pool.threads();
    if (g.n >= 2 * threads) {
      // Enough images: each task copies its own images in and convolves them, so the padded copy
      // is still in that core's cache when the micro-kernel reads it, and one loop does it all.
      int perTask = Math.max(1, Math.min(g.n / (2 * threads), (CHUNK_TILES * MR + hw - 1) / hw));
      int tasks = (g.n + perTask - 1) / perTask;
      pool.forEach(
          tasks,
          (task, worker) -> {
            int b0 = task * perTask, b1 = Math.min(g.n, b0 + perTask);
            for (int b = b0; b < b1; b++) {
              packBand(in, g, b, 0, g.hp, src, bases, worker);
            }
            convolvePixels(g, packed, cout, coutP, bias, out, across, b0 * hw, b1 * hw, CHUNK_TILES * MR, worker);
          });
      return;
    }
    // Few (large) images: copy them in row bands first, then convolve chunks of tiles.
    pack(in, g);
    int pixels = g.pixels();
    int tilesCount = (pixels + MR - 1) / MR;
    int chunkTiles = Math.max(1, Math.min(CHUNK_TILES, tilesCount / (CHUNKS_PER_THREAD * threads)));
    int chunkPixels = chunkTiles * MR;
    int chunks = (pixels + chunkPixels - 1) / chunkPixels;
    pool.forEach(
        chunks,
        (chunk, worker) -> {
          int p0 = chunk * chunkPixels;
          convolvePixels(g, packed, cout, coutP, bias, out, across, p0, Math.min(pixels, p0 + chunkPixels), chunkPixels, worker);
        });
  }

  /** Output pixels {@code [p0, p1)}, computed and written back {@code chunk} pixels at a time. */
  private void convolvePixels(
      Layout g, float[] packed, int cout, int coutP, float[] bias, MemorySegment out, int[] across,
      int p0, int p1, int chunk, int worker) {
    float[] tile = tiles[worker] = grow(tiles[worker], (long) chunk * coutP, "output tile");
    float[] row = stages[worker] = grow(stages[worker], chunk, "output row");
    for (int q0 = p0; q0 < p1; q0 += chunk) {
      int q1 = Math.min(p1, q0 + chunk);
      computeTiles(xp, pixelBase, g.tapOffset, g.c, packed, coutP, q0, q1, tile);
      unpack(tile, q0, q1, g.h * g.w, cout, coutP, bias, out, row, across);
    }
  }


  /**
   * The padded channels-last copy of {@code in} and every output pixel's base offset into it, in
   * tasks of one band of padded rows of one image (a few bands per image when there are few images,
   * as when sampling one large image).
   */
  private void pack(MemorySegment in, Layout g) {
    xp = grow(xp, g.paddedFloats(), "padded input");
    if (pixelBase.length < g.pixels()) {
      pixelBase = new int[g.pixels()];
    }
    float[] dst = xp;
    int[] bases = pixelBase;
    int bands = Math.max(1, Math.min(g.hp, (4 * pool.threads() + g.n - 1) / g.n));
    pool.forEach(
        g.n * bands,
        (task, worker) -> {
          int b = task / bands, band = task % bands;
          int ip0 = (int) ((long) g.hp * band / bands), ip1 = (int) ((long) g.hp * (band + 1) / bands);
          packBand(in, g, b, ip0, ip1, dst, bases, worker);
        });
  }

  /** Padded rows {@code [ip0, ip1)} of image b, and the base offsets of the output pixels in them. */
  private void packBand(MemorySegment in, Layout g, int b, int ip0, int ip1, float[] dst, int[] bases, int worker) {
    int c = g.c, h = g.h, w = g.w, wp = g.wp;
    int i0 = Math.max(0, ip0 - g.top), i1 = Math.min(h, ip1 - g.top), rows = Math.max(0, i1 - i0);
    // Stage the band's input rows as [C][rows][W] (one bulk copy per channel), then gather each
    // pixel's channels down that column, a vector at a time, and store them contiguously.
    int plane = rows * w;
    float[] src = stages[worker] = grow(stages[worker], (long) c * plane, "staging");
    for (int ch = 0; ch < c && rows > 0; ch++) {
      MemorySegment.copy(in, ValueLayout.JAVA_FLOAT, (((long) b * c + ch) * h + i0) * w * 4, src, ch * plane, plane);
    }
    int[] down = strides(plane);
    int rowFloats = wp * c;
    int image = b * g.hp * rowFloats;
    for (int ip = ip0; ip < ip1; ip++) {
      int row = image + ip * rowFloats;
      int i = ip - g.top;
      if (i < 0 || i >= h) {
        Arrays.fill(dst, row, row + rowFloats, 0f);
        continue;
      }
      Arrays.fill(dst, row, row + g.left * c, 0f);
      Arrays.fill(dst, row + (g.left + w) * c, row + rowFloats, 0f);
      int d = row + g.left * c;
      for (int j = 0; j < w; j++) {
        int sp = (i - i0) * w + j;
        int ch = 0;
        for (; ch + L <= c; ch += L, d += L) {
          FloatVector.fromArray(S, src, ch * plane + sp, down, 0).intoArray(dst, d);
        }
        for (; ch < c; ch++, d++) {
          dst[d] = src[ch * plane + sp];
        }
      }
      for (int j = 0; j < w; j++) {
        bases[(b * h + i) * w + j] = ((b * g.hp + i) * wp + j) * c;
      }
    }
  }

  /** Output tiles for pixels {@code [p0, p1)} into {@code tile} (row {@code p - p0}, {@code coutP} wide). */
  private static void computeTiles(
      float[] src, int[] bases, int[] tapOffset, int c, float[] packed, int coutP, int p0, int p1, float[] tile) {
    int last = p1 - 1;
    for (int p = p0; p < p1; p += MR) {
      int q1 = Math.min(p + 1, last), q2 = Math.min(p + 2, last), q3 = Math.min(p + 3, last);
      int q4 = Math.min(p + 4, last), q5 = Math.min(p + 5, last);
      int a0 = bases[p], a1 = bases[q1], a2 = bases[q2], a3 = bases[q3], a4 = bases[q4], a5 = bases[q5];
      int y0 = (p - p0) * coutP, y1 = (q1 - p0) * coutP, y2 = (q2 - p0) * coutP;
      int y3 = (q3 - p0) * coutP, y4 = (q4 - p0) * coutP, y5 = (q5 - p0) * coutP;
      int ob = 0;
      for (; ob + NRV * L <= coutP; ob += NRV * L) {
        kernel6x4(src, tapOffset, c, packed, ob, coutP, a0, a1, a2, a3, a4, a5, tile, y0 + ob, y1 + ob,
            y2 + ob, y3 + ob, y4 + ob, y5 + ob);
      }
      for (; ob < coutP; ob += L) {
        kernel6x1(src, tapOffset, c, packed, ob, coutP, a0, a1, a2, a3, a4, a5, tile, y0 + ob, y1 + ob,
            y2 + ob, y3 + ob, y4 + ob, y5 + ob);
      }
    }
  }

  /**
   * Tile rows back to {@code NCHW}, adding the bias: each output channel's run of pixels is gathered
   * into {@code row} and written with one bulk copy.
   */
  private static void unpack(
      float[] tile, int p0, int p1, int hw, int cout, int coutP, float[] bias, MemorySegment out, float[] row,
      int[] across) {
    int p = p0;
    while (p < p1) {
      int b = p / hw;
      int q0 = p - b * hw;
      int len = Math.min(hw - q0, p1 - p);
      int s0 = (p - p0) * coutP;
      for (int o = 0; o < cout; o++) {
        float add = bias == null ? 0f : bias[o];
        int q = 0;
        for (; q + L <= len; q += L) {
          FloatVector.fromArray(S, tile, s0 + o + q * coutP, across, 0).add(add).intoArray(row, q);
        }
        for (int s = s0 + o + q * coutP; q < len; q++, s += coutP) {
          row[q] = tile[s] + add;
        }
        MemorySegment.copy(row, 0, out, ValueLayout.JAVA_FLOAT, (((long) b * cout + o) * hw + q0) * 4, len);
      }
      p += len;
    }
  }

  private static void writeBiasOnly(MemorySegment out, int n, int cout, int hw, float[] bias) {
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < cout; o++) {
        float v = bias == null ? 0f : bias[o];
        long base = ((long) b * cout + o) * hw;
        out.asSlice(base * 4, (long) hw * 4).fill((byte) 0);
        if (v != 0f) {
          for (int q = 0; q < hw; q++) {
            out.setAtIndex(F, base + q, v);
          }
        }
      }
    }
  }

  /** 6 pixels × 4 vectors of output channels, over every tap and input channel. */
  private static void kernel6x4(
      float[] x, int[] tapOffset, int c, float[] wt, int ob, int coutP,
      int a0, int a1, int a2, int a3, int a4, int a5,
      float[] y, int y0, int y1, int y2, int y3, int y4, int y5) {
    FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
    FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    FloatVector c40 = c00, c41 = c00, c42 = c00, c43 = c00;
    FloatVector c50 = c00, c51 = c00, c52 = c00, c53 = c00;
    for (int t = 0; t < tapOffset.length; t++) {
      int off = tapOffset[t];
      int b0 = a0 + off, b1 = a1 + off, b2 = a2 + off, b3 = a3 + off, b4 = a4 + off, b5 = a5 + off;
      int wi = t * c * coutP + ob;
      for (int k = 0; k < c; k++, wi += coutP) {
        FloatVector w0 = FloatVector.fromArray(S, wt, wi);
        FloatVector w1 = FloatVector.fromArray(S, wt, wi + L);
        FloatVector w2 = FloatVector.fromArray(S, wt, wi + 2 * L);
        FloatVector w3 = FloatVector.fromArray(S, wt, wi + 3 * L);
        FloatVector v = FloatVector.broadcast(S, x[b0 + k]);
        c00 = v.fma(w0, c00);
        c01 = v.fma(w1, c01);
        c02 = v.fma(w2, c02);
        c03 = v.fma(w3, c03);
        v = FloatVector.broadcast(S, x[b1 + k]);
        c10 = v.fma(w0, c10);
        c11 = v.fma(w1, c11);
        c12 = v.fma(w2, c12);
        c13 = v.fma(w3, c13);
        v = FloatVector.broadcast(S, x[b2 + k]);
        c20 = v.fma(w0, c20);
        c21 = v.fma(w1, c21);
        c22 = v.fma(w2, c22);
        c23 = v.fma(w3, c23);
        v = FloatVector.broadcast(S, x[b3 + k]);
        c30 = v.fma(w0, c30);
        c31 = v.fma(w1, c31);
        c32 = v.fma(w2, c32);
        c33 = v.fma(w3, c33);
        v = FloatVector.broadcast(S, x[b4 + k]);
        c40 = v.fma(w0, c40);
        c41 = v.fma(w1, c41);
        c42 = v.fma(w2, c42);
        c43 = v.fma(w3, c43);
        v = FloatVector.broadcast(S, x[b5 + k]);
        c50 = v.fma(w0, c50);
        c51 = v.fma(w1, c51);
        c52 = v.fma(w2, c52);
        c53 = v.fma(w3, c53);
      }
    }
    // Stores written out rather than through a helper: a call taking vectors that C2 declines to
    // inline (NodeCountInliningCutoff in a method this size) boxes them and costs a factor of five.
    c00.intoArray(y, y0);
    c01.intoArray(y, y0 + L);
    c02.intoArray(y, y0 + 2 * L);
    c03.intoArray(y, y0 + 3 * L);
    c10.intoArray(y, y1);
    c11.intoArray(y, y1 + L);
    c12.intoArray(y, y1 + 2 * L);
    c13.intoArray(y, y1 + 3 * L);
    c20.intoArray(y, y2);
    c21.intoArray(y, y2 + L);
    c22.intoArray(y, y2 + 2 * L);
    c23.intoArray(y, y2 + 3 * L);
    c30.intoArray(y, y3);
    c31.intoArray(y, y3 + L);
    c32.intoArray(y, y3 + 2 * L);
    c33.intoArray(y, y3 + 3 * L);
    c40.intoArray(y, y4);
    c41.intoArray(y, y4 + L);
    c42.intoArray(y, y4 + 2 * L);
    c43.intoArray(y, y4 + 3 * L);
    c50.intoArray(y, y5);
    c51.intoArray(y, y5 + L);
    c52.intoArray(y, y5 + 2 * L);
    c53.intoArray(y, y5 + 3 * L);
  }

  /** 6 pixels × 1 vector of output channels: the channels left over after the 4-vector blocks. */
  private static void kernel6x1(
      float[] x, int[] tapOffset, int c, float[] wt, int ob, int coutP,
      int a0, int a1, int a2, int a3, int a4, int a5,
      float[] y, int y0, int y1, int y2, int y3, int y4, int y5) {
    FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    for (int t = 0; t < tapOffset.length; t++) {
      int off = tapOffset[t];
      int b0 = a0 + off, b1 = a1 + off, b2 = a2 + off, b3 = a3 + off, b4 = a4 + off, b5 = a5 + off;
      int wi = t * c * coutP + ob;
      for (int k = 0; k < c; k++, wi += coutP) {
        FloatVector w0 = FloatVector.fromArray(S, wt, wi);
        c0 = FloatVector.broadcast(S, x[b0 + k]).fma(w0, c0);
        c1 = FloatVector.broadcast(S, x[b1 + k]).fma(w0, c1);
        c2 = FloatVector.broadcast(S, x[b2 + k]).fma(w0, c2);
        c3 = FloatVector.broadcast(S, x[b3 + k]).fma(w0, c3);
        c4 = FloatVector.broadcast(S, x[b4 + k]).fma(w0, c4);
        c5 = FloatVector.broadcast(S, x[b5 + k]).fma(w0, c5);
      }
    }
    c0.intoArray(y, y0);
    c1.intoArray(y, y1);
    c2.intoArray(y, y2);
    c3.intoArray(y, y3);
    c4.intoArray(y, y4);
    c5.intoArray(y, y5);
  }

  // ================================================================ backward-filter

  /**
   * {@code dw} (and {@code dbias} when not null) from {@code x} and {@code dy}: zero outside the used
   * taps, times the mask inside them.
   */
  void backwardFilter(
      MemorySegment x,
      MemorySegment dyIn,
      int n,
      int ci,
      int co,
      int h,
      int w,
      float[] mask,
      ConvTaps taps,
      MemorySegment dw,
      MemorySegment dbias) {
    int t = taps.count();
    int coP = roundUp(co, L);
    int hw = h * w;
    int pixels = n * hw;
    int[] dy = new int[t];
    int[] dx = new int[t];
    for (int k = 0; k < t; k++) {
      dy[k] = taps.dy(k);
      dx[k] = taps.dx(k);
    }
    Layout g = new Layout(n, ci, h, w, dy, dx);
    dyt = grow(dyt, (long) pixels * coP, "transposed output gradient");
    float[] grad = dyt;
    if (t > 0) {
      pack(x, g);
    }
    int[] down = strides(hw);
    pool.forEach(n, (b, worker) -> transposeImage(stage(dyIn, b, co * hw, worker), b, co, coP, hw, grad, down));
    int rows = t * ci;
    dwt = grow(dwt, (long) rows * coP, "filter gradient");
    float[] acc = dwt;
    if (rows > 0) {
      Arrays.fill(acc, 0, rows * coP, 0f);
      int[] rowOffset = new int[rows];
      for (int k = 0; k < t; k++) {
        for (int c = 0; c < ci; c++) {
          rowOffset[k * ci + c] = g.tapOffset[k] + c;
        }
      }
      float[] src = xp;
      int[] bases = pixelBase;
      int tilesCount = (rows + MR - 1) / MR;
      int blocks = (coP + NRV * L - 1) / (NRV * L);
      // Tasks are (tile group, channel block) pairs; each sweeps every pixel block, so the gradient
      // rows of a block are reused from L2 by all tiles of its group.
      int groups = Math.min(tilesCount, 4 * pool.threads());
      pool.forEach(
          groups * blocks,
          (task, worker) -> {
            int group = task / blocks;
            int ob = (task % blocks) * NRV * L;
            int tile0 = (int) ((long) tilesCount * group / groups);
            int tile1 = (int) ((long) tilesCount * (group + 1) / groups);
            int obEnd = Math.min(coP, ob + NRV * L);
            float[] sums = tiles[worker] = grow(tiles[worker], MR * NRV * L, "filter tile");
            for (int p0 = 0; p0 < pixels; p0 += PIXEL_BLOCK) {
              int p1 = Math.min(pixels, p0 + PIXEL_BLOCK);
              for (int tile = tile0; tile < tile1; tile++) {
                filterTile(src, bases, grad, coP, ob, obEnd, rowOffset, tile * MR, rows, p0, p1, acc, sums);
              }
            }
          });
    }
    dwOut = grow(dwOut, (long) co * ci * taps.kernelHeight * taps.kernelWidth, "filter gradient");
    writeFilterGradient(dw, acc, taps, ci, co, coP, mask, dwOut);
    if (dbias != null) {
      writeBiasGradient(dbias, grad, pixels, co, coP);
    }
  }

  /** Image b of {@code dy}, staged as {@code [co][hw]}, as rows {@code [pixel][coP]}, padding lanes zero. */
  private static void transposeImage(float[] src, int b, int co, int coP, int hw, float[] dst, int[] down) {
    int d = b * hw * coP;
    for (int q = 0; q < hw; q++) {
      int o = 0;
      for (; o + L <= co; o += L, d += L) {
        FloatVector.fromArray(S, src, o * hw + q, down, 0).intoArray(dst, d);
      }
      for (; o < co; o++, d++) {
        dst[d] = src[o * hw + q];
      }
      for (; o < coP; o++, d++) {
        dst[d] = 0f;
      }
    }
  }

  /**
   * Rows {@code [r0, r0 + MR)} (those below {@code rows}) × lanes {@code [ob, obEnd)} over pixels
   * {@code [p0, p1)}, added to {@code acc}. The kernels leave their sums in {@code sums} ({@code MR}
   * rows of {@code NRV·L}); rows past the last one repeat it and are dropped here.
   */
  private static void filterTile(
      float[] x, int[] bases, float[] grad, int coP, int ob, int obEnd, int[] rowOffset,
      int r0, int rows, int p0, int p1, float[] acc, float[] sums) {
    int valid = Math.min(MR, rows - r0);
    int last = r0 + valid - 1;
    int o0 = rowOffset[r0], o1 = rowOffset[Math.min(r0 + 1, last)], o2 = rowOffset[Math.min(r0 + 2, last)];
    int o3 = rowOffset[Math.min(r0 + 3, last)], o4 = rowOffset[Math.min(r0 + 4, last)];
    int o5 = rowOffset[Math.min(r0 + 5, last)];
    int width = obEnd - ob;
    if (width == NRV * L) {
      filterKernel6x4(x, bases, grad, coP, ob, o0, o1, o2, o3, o4, o5, p0, p1, sums);
    } else {
      for (int o = 0; o < width; o += L) {
        filterKernel6x1(x, bases, grad, coP, ob + o, o0, o1, o2, o3, o4, o5, p0, p1, sums, o);
      }
    }
    for (int i = 0; i < valid; i++) {
      int a = (r0 + i) * coP + ob;
      int s = i * NRV * L;
      for (int o = 0; o < width; o += L) {
        FloatVector.fromArray(S, acc, a + o).add(FloatVector.fromArray(S, sums, s + o)).intoArray(acc, a + o);
      }
    }
  }

  /** Sums of 6 rows × 4 vectors of output channels over pixels {@code [p0, p1)}, into {@code sums}. */
  private static void filterKernel6x4(
      float[] x, int[] bases, float[] grad, int coP, int ob,
      int o0, int o1, int o2, int o3, int o4, int o5, int p0, int p1, float[] sums) {
    FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
    FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    FloatVector c40 = c00, c41 = c00, c42 = c00, c43 = c00;
    FloatVector c50 = c00, c51 = c00, c52 = c00, c53 = c00;
    for (int p = p0; p < p1; p++) {
      int base = bases[p];
      int gi = p * coP + ob;
      FloatVector g0 = FloatVector.fromArray(S, grad, gi);
      FloatVector g1 = FloatVector.fromArray(S, grad, gi + L);
      FloatVector g2 = FloatVector.fromArray(S, grad, gi + 2 * L);
      FloatVector g3 = FloatVector.fromArray(S, grad, gi + 3 * L);
      FloatVector v = FloatVector.broadcast(S, x[base + o0]);
      c00 = v.fma(g0, c00);
      c01 = v.fma(g1, c01);
      c02 = v.fma(g2, c02);
      c03 = v.fma(g3, c03);
      v = FloatVector.broadcast(S, x[base + o1]);
      c10 = v.fma(g0, c10);
      c11 = v.fma(g1, c11);
      c12 = v.fma(g2, c12);
      c13 = v.fma(g3, c13);
      v = FloatVector.broadcast(S, x[base + o2]);
      c20 = v.fma(g0, c20);
      c21 = v.fma(g1, c21);
      c22 = v.fma(g2, c22);
      c23 = v.fma(g3, c23);
      v = FloatVector.broadcast(S, x[base + o3]);
      c30 = v.fma(g0, c30);
      c31 = v.fma(g1, c31);
      c32 = v.fma(g2, c32);
      c33 = v.fma(g3, c33);
      v = FloatVector.broadcast(S, x[base + o4]);
      c40 = v.fma(g0, c40);
      c41 = v.fma(g1, c41);
      c42 = v.fma(g2, c42);
      c43 = v.fma(g3, c43);
      v = FloatVector.broadcast(S, x[base + o5]);
      c50 = v.fma(g0, c50);
      c51 = v.fma(g1, c51);
      c52 = v.fma(g2, c52);
      c53 = v.fma(g3, c53);
    }
    // Direct stores, no helper taking vectors (see kernel6x4).
    c00.intoArray(sums, 0);
    c01.intoArray(sums, L);
    c02.intoArray(sums, 2 * L);
    c03.intoArray(sums, 3 * L);
    c10.intoArray(sums, 4 * L);
    c11.intoArray(sums, 5 * L);
    c12.intoArray(sums, 6 * L);
    c13.intoArray(sums, 7 * L);
    c20.intoArray(sums, 8 * L);
    c21.intoArray(sums, 9 * L);
    c22.intoArray(sums, 10 * L);
    c23.intoArray(sums, 11 * L);
    c30.intoArray(sums, 12 * L);
    c31.intoArray(sums, 13 * L);
    c32.intoArray(sums, 14 * L);
    c33.intoArray(sums, 15 * L);
    c40.intoArray(sums, 16 * L);
    c41.intoArray(sums, 17 * L);
    c42.intoArray(sums, 18 * L);
    c43.intoArray(sums, 19 * L);
    c50.intoArray(sums, 20 * L);
    c51.intoArray(sums, 21 * L);
    c52.intoArray(sums, 22 * L);
    c53.intoArray(sums, 23 * L);
  }

  /** Sums of 6 rows × 1 vector (lane offset {@code at} of each sums row) over pixels {@code [p0, p1)}. */
  private static void filterKernel6x1(
      float[] x, int[] bases, float[] grad, int coP, int ob,
      int o0, int o1, int o2, int o3, int o4, int o5, int p0, int p1, float[] sums, int at) {
    FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    for (int p = p0; p < p1; p++) {
      int base = bases[p];
      FloatVector g0 = FloatVector.fromArray(S, grad, p * coP + ob);
      c0 = FloatVector.broadcast(S, x[base + o0]).fma(g0, c0);
      c1 = FloatVector.broadcast(S, x[base + o1]).fma(g0, c1);
      c2 = FloatVector.broadcast(S, x[base + o2]).fma(g0, c2);
      c3 = FloatVector.broadcast(S, x[base + o3]).fma(g0, c3);
      c4 = FloatVector.broadcast(S, x[base + o4]).fma(g0, c4);
      c5 = FloatVector.broadcast(S, x[base + o5]).fma(g0, c5);
    }
    int row = NRV * L;
    c0.intoArray(sums, at);
    c1.intoArray(sums, at + row);
    c2.intoArray(sums, at + 2 * row);
    c3.intoArray(sums, at + 3 * row);
    c4.intoArray(sums, at + 4 * row);
    c5.intoArray(sums, at + 5 * row);
  }

  /** {@code dw [co, ci, kh, kw]}: the used taps' sums times the mask, zero elsewhere. */
  private static void writeFilterGradient(
      MemorySegment dw, float[] acc, ConvTaps taps, int ci, int co, int coP, float[] mask, float[] out) {
    int khw = taps.kernelHeight * taps.kernelWidth;
    int size = co * ci * khw;
    Arrays.fill(out, 0, size, 0f);
    for (int k = 0; k < taps.count(); k++) {
      int kidx = taps.kernelIndex(k);
      for (int c = 0; c < ci; c++) {
        int row = (k * ci + c) * coP;
        for (int o = 0; o < co; o++) {
          int i = (o * ci + c) * khw + kidx;
          float v = acc[row + o];
          out[i] = mask == null ? v : mask[i] == 0 ? 0f : v * mask[i];
        }
      }
    }
    MemorySegment.copy(out, 0, dw, ValueLayout.JAVA_FLOAT, 0, size);
  }

  /** {@code dbias[o] = Σ dy[·, o, ·, ·]}, in pixel blocks of {@value #PIXEL_BLOCK}. */
  private static void writeBiasGradient(MemorySegment dbias, float[] grad, int pixels, int co, int coP) {
    float[] total = new float[coP];
    float[] block = new float[coP];
    for (int p0 = 0; p0 < pixels; p0 += PIXEL_BLOCK) {
      int p1 = Math.min(pixels, p0 + PIXEL_BLOCK);
      Arrays.fill(block, 0f);
      for (int o = 0; o < coP; o += L) {
        FloatVector s = FloatVector.zero(S);
        for (int p = p0; p < p1; p++) {
          s = s.add(FloatVector.fromArray(S, grad, p * coP + o));
        }
        s.intoArray(block, o);
      }
      for (int o = 0; o < coP; o++) {
        total[o] += block[o];
      }
    }
    MemorySegment.copy(total, 0, dbias, ValueLayout.JAVA_FLOAT, 0, co);
  }
}
