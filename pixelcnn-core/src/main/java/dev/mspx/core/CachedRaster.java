package dev.mspx.core;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Tensor;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.Slot;
import dev.mspx.api.plan.Step;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Raster sampling of one gated PixelCNN with cached activations (in the manner of Ramachandran et
 * al. 2017, "Fast generation for convolutional autoregressive models"): every activation of every
 * layer is computed once per pixel instead of once per network evaluation, on the host.
 *
 * <p>How: for each spatial slot of the network and each position {@code q}, {@link #dependency}
 * holds the last own pixel (in raster order) that the value at {@code q} depends on, derived from the
 * plan itself (conv taps where the mask is non-zero; elementwise ops take the latest of their
 * inputs). A value whose last dependency is pixel {@code P} can be computed as soon as {@code P} is
 * known, and never changes afterwards. Sampling pixel {@code P} therefore computes, per colour
 * channel, only the positions whose last dependency is {@code P} (provisional: the pixel is still
 * partly drawn) and reads the logits at {@code P}; when the pixel is complete it computes them once
 * more, for good. Values that depend on no pixel come from one full evaluation on the backend of an
 * all-zero image, which also yields every non-spatial value (the conditioning). Work per image: about
 * {@code C + 1} single-position passes per pixel instead of {@code C} full-image passes.
 *
 * <p>What it draws from is the same distribution as {@link Sampler}'s full re-evaluation: it consumes
 * the same uniforms in the same order, and its logits differ from the backend's only by float
 * rounding (host kernels in float with their own summation order; {@code CachedRasterTest} compares
 * them along whole sampling runs). A network with a step it cannot follow one position at a time
 * (space-to-depth, a dense op on spatial values) is refused at construction, naming the step.
 */
final class CachedRaster implements AutoCloseable {

  private final PlanRuntime runtime;
  private final Backend backend;
  private final Network net;
  private final int n;
  private final int channels;
  private final int levels;
  private final int side;
  private final int area;
  private final HostMemory host = HostMemory.create("cached-raster");

  /** Host values of spatial slots, {@code [n][position][channel]}; null for other slots. */
  private final float[][] values;

  /** Channels of each spatial slot (0 for others). */
  private final int[] width;

  /** Host values of non-spatial batched slots (conditioning), in their natural layout. */
  private final float[][] flat;

  /** Per spatial slot, per position: the last own pixel its value depends on; -1 for none. */
  private final int[][] dependency;

  /** The compiled forward steps, each with its positions bucketed by last dependency. */
  private final List<Op> ops = new ArrayList<>();

  private long positionsComputed;

  CachedRaster(PlanRuntime runtime, Network net) {
    this.runtime = runtime;
    this.backend = runtime.backend();
    this.net = net;
    ExecutionPlan plan = runtime.plan();
    this.n = runtime.batch();
    this.channels = plan.spec().channels();
    this.levels = plan.spec().levels();
    this.side = net.resolution();
    this.area = side * side;
    int slots = plan.slots().size();
    this.values = new float[slots][];
    this.width = new int[slots];
    this.flat = new float[slots][];
    this.dependency = new int[slots][];
    try {
      analyse(plan);
    } catch (RuntimeException e) {
      host.close();
      throw e;
    }
  }

  /** Single-position computations since this object was made (a position of a slot, all images). */
  long positionsComputed() {
    return positionsComputed;
  }

  /** The cached logits, {@code [n][position][C·L]}: after {@link #sample}, final at every position. */
  float[] logits() {
    return values[net.logits()].clone();
  }

  private boolean spatial(Slot s) {
    return s.batched() && s.shape().rank() == 4 && s.shape().dim(2) == side && s.shape().dim(3) == side;
  }

  private UnsupportedOperationException unsupported(Step step, String why) {
    return new UnsupportedOperationException(
        "cached raster sampling cannot follow step " + step + " of net " + net.name() + ": " + why
            + "; sample with the full re-evaluation (Sampler.RasterMode.FULL)");
  }

  private void analyse(ExecutionPlan plan) {
    Slot own = plan.slot(net.own());
    int[] ownDep = new int[area];
    Arrays.setAll(ownDep, q -> q);
    dependency[own.id()] = ownDep;
    for (Step step : net.forward()) {
      boolean spatialOut = false, spatialIn = false;
      for (int w : step.writes()) {
        spatialOut |= spatial(plan.slot(w));
      }
      for (int r : step.reads()) {
        Slot s = plan.slot(r);
        if (spatial(s) && dependency[r] == null) {
          throw unsupported(step, "it reads spatial input " + s.name() + " that is not the image");
        }
        spatialIn |= spatial(s) && Arrays.stream(dependency[r]).anyMatch(d -> d >= 0);
      }
      if (!spatialOut) {
        if (spatialIn) {
          throw unsupported(step, "it reduces spatial values that depend on the image");
        }
        ops.add(new Op(step, null, null)); // computed once, by the backend pass
        continue;
      }
      int[] dep = new int[area];
      Kernel kernel = null;
      switch (step) {
        case Step.Dequantize s -> System.arraycopy(dependency[s.x()], 0, dep, 0, area);
        case Step.Conv s -> {
          boolean[] taps = activeTaps(s);
          convDependency(s, taps, dep);
          kernel = compile(s, taps);
        }
        case Step.Gate s -> System.arraycopy(dependency[s.pre()], 0, dep, 0, area);
        case Step.Relu s -> System.arraycopy(dependency[s.x()], 0, dep, 0, area);
        case Step.Add s -> latest(dep, s.a(), s.b());
        case Step.AddChannelBias s -> {
          if (spatial(plan.slot(s.bias()))) {
            throw unsupported(step, "its bias is spatial");
          }
          System.arraycopy(dependency[s.x()], 0, dep, 0, area);
        }
        case Step.Concat s -> latest(dep, s.parts().stream().mapToInt(Integer::intValue).toArray());
        case Step.Split s -> System.arraycopy(dependency[s.in()], 0, dep, 0, area);
        default -> throw unsupported(step, "it is not a per-position op");
      }
      for (int w : step.writes()) {
        Slot s = plan.slot(w);
        if (!spatial(s)) {
          throw unsupported(step, "it writes both spatial and non-spatial values");
        }
        dependency[w] = dep;
        width[w] = s.shape().dim(1);
      }
      ops.add(new Op(step, dep, kernel));
    }
    int[] logits = dependency[net.logits()];
    for (int q = 0; q < area; q++) {
      if (logits == null || logits[q] > q) {
        throw new IllegalStateException(
            "net " + net.name() + " is not causal: its logits at position " + q + " depend on pixel "
                + (logits == null ? "?" : logits[q]) + " (a later one); the plan's masks are wrong");
      }
    }
    for (int s = 0; s < values.length; s++) {
      if (dependency[s] != null && s != own.id()) {
        values[s] = new float[n * area * width[s]];
      }
    }
  }

  private void latest(int[] dep, int... slots) {
    Arrays.fill(dep, -1);
    for (int s : slots) {
      int[] d = dependency[s];
      if (d == null) {
        continue; // non-spatial
      }
      for (int q = 0; q < area; q++) {
        dep[q] = Math.max(dep[q], d[q]);
      }
    }
  }

  private void convDependency(Step.Conv s, boolean[] taps, int[] dep) {
    int[] in = dependency[s.x()];
    int kh = s.op().kernelHeight(), kw = s.op().kernelWidth(), ph = s.op().padHeight(), pw = s.op().padWidth();
    for (int i = 0; i < side; i++) {
      for (int j = 0; j < side; j++) {
        int d = -1;
        for (int ky = 0; ky < kh; ky++) {
          for (int kx = 0; kx < kw; kx++) {
            int y = i + ky - ph, x = j + kx - pw;
            if (taps[ky * kw + kx] && y >= 0 && y < side && x >= 0 && x < side) {
              d = Math.max(d, in[y * side + x]);
            }
          }
        }
        dep[i * side + j] = d;
      }
    }
  }

  /** Kernel taps where the mask has any non-zero entry (all taps without a mask). */
  private boolean[] activeTaps(Step.Conv s) {
    int kh = s.op().kernelHeight(), kw = s.op().kernelWidth();
    boolean[] taps = new boolean[kh * kw];
    if (s.mask() < 0) {
      Arrays.fill(taps, true);
      return taps;
    }
    float[] m = read(s.mask());
    int perTap = kh * kw;
    for (int k = 0; k < m.length; k++) {
      if (m[k] != 0) {
        taps[k % perTap] = true;
      }
    }
    return taps;
  }

  private float[] read(int slot) {
    try (HostTensor h = backend.toHost(runtime.tensor(slot), host)) {
      return h.toFloatArray();
    }
  }

  /** Weights as {@code [tap][in][out]} (masked), for the taps that carry any weight. */
  private Kernel compile(Step.Conv s, boolean[] taps) {
    int ci = s.op().inChannels(), co = s.op().outChannels(), kh = s.op().kernelHeight(), kw = s.op().kernelWidth();
    float[] w = read(s.w());
    float[] m = s.mask() < 0 ? null : read(s.mask());
    int active = 0;
    for (boolean t : taps) {
      active += t ? 1 : 0;
    }
    int[] dy = new int[active], dx = new int[active];
    float[] packed = new float[active * ci * co];
    int t = 0;
    for (int ky = 0; ky < kh; ky++) {
      for (int kx = 0; kx < kw; kx++) {
        if (!taps[ky * kw + kx]) {
          continue;
        }
        dy[t] = ky - s.op().padHeight();
        dx[t] = kx - s.op().padWidth();
        for (int o = 0; o < co; o++) {
          for (int c = 0; c < ci; c++) {
            int k = ((o * ci + c) * kh + ky) * kw + kx;
            packed[(t * ci + c) * co + o] = m == null ? w[k] : w[k] * m[k];
          }
        }
        t++;
      }
    }
    float[] bias = s.bias() < 0 ? new float[co] : read(s.bias());
    return new Kernel(dy, dx, packed, bias, ci, co);
  }

  private record Kernel(int[] dy, int[] dx, float[] weights, float[] bias, int in, int out) {}

  /** A forward step with its positions grouped by last dependency (null buckets: non-spatial). */
  private static final class Op {
    final Step step;
    final Kernel kernel;
    final int[] start; // positions with last dependency p are order[start[p + 1] .. start[p + 2])
    final int[] order;

    Op(Step step, int[] dep, Kernel kernel) {
      this.step = step;
      this.kernel = kernel;
      if (dep == null) {
        start = null;
        order = null;
        return;
      }
      int area = dep.length;
      start = new int[area + 2];
      for (int d : dep) {
        start[d + 2]++;
      }
      for (int p = 1; p < start.length; p++) {
        start[p] += start[p - 1];
      }
      order = new int[area];
      int[] fill = Arrays.copyOf(start, start.length);
      for (int q = 0; q < area; q++) {
        order[fill[dep[q] + 1]++] = q;
      }
    }
  }

  /**
   * Draws every sub-pixel of {@code image} ({@code uint8 [n, C, side, side]}, in raster order then
   * colour by colour, from zeros), consuming {@code random} (one stream, or one per image) exactly as
   * {@link Sampler}'s full re-evaluation does.
   */
  byte[] sample(SplittableRandom[] random) {
    try (Draws draws = new Draws(runtime, random)) {
      return generate(draws);
    }
  }

  /**
   * Settles every sub-pixel of the image ({@code uint8 [n, C, side, side]}, in raster order then
   * colour by colour, from zeros) with {@code chooser}, which sees the cached logits on the host.
   */
  byte[] generate(SubpixelChooser chooser) {
    byte[] image = new byte[n * channels * area];
    initialise(image);
    int logitSlot = net.logits();
    SubpixelChooser.Logits logits = new SubpixelChooser.Logits() {
      @Override
      public Tensor tensor() {
        return null;
      }

      @Override
      public void subpixel(int b, int position, int channel, float[] out) {
        int zw = width[logitSlot];
        System.arraycopy(values[logitSlot], (b * area + position) * zw + channel * levels, out, 0, levels);
      }
    };
    for (int p = 0; p < area; p++) {
      int[] at = {p};
      for (int ch = 0; ch < channels; ch++) {
        computeBucket(p, image);
        byte[] chosen = chooser.choose(net, ch, at, logits);
        for (int b = 0; b < n; b++) {
          image[(b * channels + ch) * area + p] = chosen[b];
        }
      }
      computeBucket(p, image); // the pixel is complete: its dependants are final now
    }
    return image;
  }

  /** One backend evaluation of the all-zero image: every value that no pixel reaches. */
  private void initialise(byte[] image) {
    Tensor ownSlot = runtime.tensor(net.own());
    try (HostTensor zeros = host.allocate(ownSlot.shape(), DType.UINT8, "zeros")) {
      zeros.copyFrom(image);
      backend.copyFromHost(zeros, ownSlot);
    }
    for (Op op : ops) {
      runtime.run(List.of(op.step));
      for (int w : op.step.writes()) {
        try (HostTensor h = backend.toHost(runtime.tensor(w), host)) {
          float[] v = h.toFloatArray();
          if (values[w] == null) {
            flat[w] = v;
            continue;
          }
          int c = width[w];
          float[] dst = values[w];
          for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
              for (int q = 0; q < area; q++) {
                dst[(b * area + q) * c + ch] = v[(b * c + ch) * area + q];
              }
            }
          }
        }
      }
    }
  }

  private void computeBucket(int p, byte[] image) {
    for (Op op : ops) {
      if (op.start == null) {
        continue;
      }
      for (int k = op.start[p + 1]; k < op.start[p + 2]; k++) {
        compute(op, op.order[k], image);
        positionsComputed++;
      }
    }
  }

  private void compute(Op op, int q, byte[] image) {
    switch (op.step) {
      case Step.Dequantize s -> {
        float[] out = values[s.out()];
        int c = width[s.out()];
        double scale = 2.0 / (s.levels() - 1);
        for (int b = 0; b < n; b++) {
          for (int ch = 0; ch < c; ch++) {
            out[(b * area + q) * c + ch] = (float) (Byte.toUnsignedInt(image[(b * c + ch) * area + q]) * scale - 1.0);
          }
        }
      }
      case Step.Conv s -> conv(op.kernel, values[s.x()], values[s.y()], q);
      case Step.Gate s -> {
        float[] pre = values[s.pre()], out = values[s.out()];
        int f = width[s.out()];
        for (int b = 0; b < n; b++) {
          int ip = (b * area + q) * 2 * f, io = (b * area + q) * f;
          for (int c = 0; c < f; c++) {
            double a = pre[ip + c], g = pre[ip + f + c];
            out[io + c] = (float) (Math.tanh(a) / (1 + Math.exp(-g)));
          }
        }
      }
      case Step.Relu s -> {
        float[] x = values[s.x()], y = values[s.y()];
        int c = width[s.y()];
        for (int b = 0; b < n; b++) {
          int i = (b * area + q) * c;
          for (int ch = 0; ch < c; ch++) {
            y[i + ch] = x[i + ch] > 0 ? x[i + ch] : 0f;
          }
        }
      }
      case Step.Add s -> {
        float[] a = values[s.a()], bv = values[s.b()], out = values[s.out()];
        int c = width[s.out()];
        for (int b = 0; b < n; b++) {
          int i = (b * area + q) * c;
          for (int ch = 0; ch < c; ch++) {
            out[i + ch] = a[i + ch] + bv[i + ch];
          }
        }
      }
      case Step.AddChannelBias s -> {
        float[] x = values[s.x()], bias = flat[s.bias()], out = values[s.out()];
        int c = width[s.out()];
        for (int b = 0; b < n; b++) {
          int i = (b * area + q) * c;
          for (int ch = 0; ch < c; ch++) {
            out[i + ch] = x[i + ch] + bias[b * c + ch];
          }
        }
      }
      case Step.Concat s -> {
        float[] out = values[s.out()];
        int c = width[s.out()];
        for (int b = 0; b < n; b++) {
          int at = (b * area + q) * c;
          for (int part : s.parts()) {
            int pc = width[part];
            System.arraycopy(values[part], (b * area + q) * pc, out, at, pc);
            at += pc;
          }
        }
      }
      case Step.Split s -> {
        float[] in = values[s.in()];
        int c = width[s.in()];
        for (int b = 0; b < n; b++) {
          int at = (b * area + q) * c;
          for (int part : s.parts()) {
            int pc = width[part];
            System.arraycopy(in, at, values[part], (b * area + q) * pc, pc);
            at += pc;
          }
        }
      }
      default -> throw new IllegalStateException("not a per-position step: " + op.step);
    }
  }

  /** One output position of a convolution for every image: bias plus taps × in × out, saxpy form. */
  private void conv(Kernel k, float[] x, float[] y, int q) {
    int i = q / side, j = q % side, ci = k.in(), co = k.out();
    float[] w = k.weights();
    for (int b = 0; b < n; b++) {
      int outAt = (b * area + q) * co;
      System.arraycopy(k.bias(), 0, y, outAt, co);
      for (int t = 0; t < k.dy().length; t++) {
        int yy = i + k.dy()[t], xx = j + k.dx()[t];
        if (yy < 0 || yy >= side || xx < 0 || xx >= side) {
          continue;
        }
        int inAt = (b * area + yy * side + xx) * ci;
        int wAt = t * ci * co;
        for (int c = 0; c < ci; c++) {
          float v = x[inAt + c];
          if (v == 0f) {
            continue;
          }
          int row = wAt + c * co;
          for (int o = 0; o < co; o++) {
            y[outAt + o] += v * w[row + o];
          }
        }
      }
    }
  }

  @Override
  public void close() {
    host.close();
  }
}
