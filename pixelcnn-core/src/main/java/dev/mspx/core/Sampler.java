package dev.mspx.core;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.Network;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Draws images from a model, {@code runtime.batch()} at a time, from exactly the distribution the
 * evaluator scores: every sub-pixel by {@link Backend#sampleCategorical} on the logits of the network
 * that predicts it, with uniforms from a seeded generator.
 *
 * <ul>
 *   <li>Raster model and the base net of a multiscale model: in raster order, colour by colour.
 *       {@link RasterMode#FULL} (the default): one full network evaluation per sub-pixel, the baseline
 *       as the paper measures it. {@link RasterMode#CACHED}: activations cached across pixels, each
 *       computed once per pixel on the host ({@link CachedRaster}); same uniforms, same distribution.
 *   <li>Each upscaling r → 2r: for groups G2, G3, G4 in turn, the trunk once over the known groups,
 *       then the head once per colour channel; every pixel of the group is drawn in parallel. With
 *       type-B upscaling over M×M patches the head runs once per patch place (raster order) and colour
 *       channel, every patch's pixel at that place drawn in parallel: M²·C heads per group.
 * </ul>
 */
public final class Sampler implements AutoCloseable {

  /** How the raster part (a raster model, or a multiscale model's base net) is sampled. */
  public enum RasterMode {
    /** One full network evaluation on the backend per sub-pixel. */
    FULL,
    /** Cached activations: per pixel, only the positions that the pixel completes, on the host. */
    CACHED
  }

  private final PlanRuntime runtime;
  private final RasterMode rasterMode;
  private long positionsComputed;
  private final ModelSpec spec;
  private final Backend backend;
  private final HostMemory host = HostMemory.create("sampler");
  private long evaluations;

  public Sampler(PlanRuntime runtime) {
    this(runtime, RasterMode.FULL);
  }

  public Sampler(PlanRuntime runtime, RasterMode rasterMode) {
    this.runtime = runtime;
    this.rasterMode = rasterMode;
    this.spec = runtime.plan().spec();
    this.backend = runtime.backend();
  }

  /**
   * Network evaluations on the backend (trunk or head or whole net) since this sampler was made; a
   * cached raster pass counts one (its evaluation of the all-zero image).
   */
  public long evaluations() {
    return evaluations;
  }

  /** Single-position computations of cached raster sampling (a position of one slot, all images). */
  public long positionsComputed() {
    return positionsComputed;
  }

  /**
   * Draws {@code runtime.batch()} images {@code uint8 [N, C, H, W]}, owned by {@code memory}. For a
   * conditional model, set its conditioning on the runtime first.
   */
  public HostTensor sample(long seed, HostMemory memory) {
    return sample(new SplittableRandom[] {new SplittableRandom(seed)}, memory);
  }

  /**
   * As {@link #sample(long, HostMemory)}, with image {@code b} drawing its uniforms from its own stream
   * seeded {@code seeds[b]}: an image then depends on its seed alone, not on the batch it is drawn in.
   */
  public HostTensor sample(long[] seeds, HostMemory memory) {
    if (seeds.length != runtime.batch()) {
      throw new IllegalArgumentException(seeds.length + " seeds for a batch of " + runtime.batch() + " images: give one per image");
    }
    SplittableRandom[] streams = new SplittableRandom[seeds.length];
    for (int b = 0; b < seeds.length; b++) {
      streams[b] = new SplittableRandom(seeds[b]);
    }
    return sample(streams, memory);
  }

  /**
   * Fills {@code out} (the uniforms of one draw, {@code [n, C, side, side]}) in element order: from one
   * stream for the whole batch, or image {@code b}'s contiguous section from stream {@code b}.
   */
  static void uniforms(SplittableRandom[] random, float[] out) {
    if (random.length == 1) {
      for (int k = 0; k < out.length; k++) {
        out[k] = (float) random[0].nextDouble();
      }
      return;
    }
    int per = out.length / random.length;
    for (int b = 0; b < random.length; b++) {
      SplittableRandom stream = random[b];
      for (int k = b * per, end = k + per; k < end; k++) {
        out[k] = (float) stream.nextDouble();
      }
    }
  }

  private HostTensor sample(SplittableRandom[] random, HostMemory memory) {
    try (Draws draws = new Draws(runtime, random)) {
      return generate(draws, memory);
    }
  }

  /**
   * Runs the sampling schedule with {@code chooser} settling every sub-pixel (drawing it, or coding it)
   * and returns the images it settled, {@code uint8 [N, C, H, W]}, owned by {@code memory}.
   */
  public HostTensor generate(SubpixelChooser chooser, HostMemory memory) {
    List<Network> nets = runtime.plan().networks();
    int n = runtime.batch(), c = spec.channels();
    byte[] image = raster(nets.get(0), chooser);
    int r = spec.base();
    if (spec.kind() == ModelKind.MULTISCALE) {
      for (int k = 0; k < spec.upscalings(); k++, r *= 2) {
        byte[][] groups = new byte[4][];
        groups[0] = image;
        for (int g = 2; g <= 4; g++) {
          groups[g - 1] = group(nets.get(1 + 3 * k + (g - 2)), groups, g, r, chooser);
        }
        image = interleave(groups, n, c, r);
      }
    }
    HostTensor out = memory.allocate(Shape.nchw(n, c, spec.size(), spec.size()), DType.UINT8, "samples");
    out.copyFrom(image);
    return out;
  }

  /** The raster loop of a gated PixelCNN over its own image: one evaluation per sub-pixel. */
  private byte[] raster(Network net, SubpixelChooser chooser) {
    if (rasterMode == RasterMode.CACHED) {
      try (CachedRaster cached = new CachedRaster(runtime, net)) {
        byte[] image = cached.generate(chooser);
        evaluations++;
        positionsComputed += cached.positionsComputed();
        return image;
      }
    }
    int n = runtime.batch(), c = spec.channels(), side = net.resolution(), area = side * side;
    byte[] image = new byte[n * c * area];
    Tensor own = runtime.tensor(net.own());
    try (HostTensor hostImage = host.allocate(own.shape(), DType.UINT8, "image")) {
      for (int i = 0; i < side; i++) {
        for (int j = 0; j < side; j++) {
          int[] at = {i * side + j};
          for (int ch = 0; ch < c; ch++) {
            hostImage.copyFrom(image);
            backend.copyFromHost(hostImage, own);
            runtime.run(net.head());
            evaluations++;
            byte[] chosen = chooser.choose(net, ch, at, new BackendLogits(net));
            for (int b = 0; b < n; b++) {
              image[(b * c + ch) * area + at[0]] = chosen[b];
            }
          }
        }
      }
    }
    return image;
  }

  /** One pixel group: trunk once over the earlier groups, then the head once per colour. */
  private byte[] group(Network net, byte[][] groups, int g, int r, SubpixelChooser chooser) {
    int n = runtime.batch(), c = spec.channels(), area = r * r;
    byte[] context = new byte[n * c * (g - 1) * area];
    for (int b = 0; b < n; b++) {
      for (int e = 0; e < g - 1; e++) {
        System.arraycopy(groups[e], b * c * area, context, (b * (g - 1) + e) * c * area, c * area);
      }
    }
    byte[] own = new byte[n * c * area];
    int[][] steps = patchSteps(r, GenerationOrder.patch(spec));
    Tensor contextSlot = runtime.tensor(net.context());
    Tensor ownSlot = runtime.tensor(net.own());
    try (HostTensor hostContext = host.allocate(contextSlot.shape(), DType.UINT8, "context");
        HostTensor hostOwn = host.allocate(ownSlot.shape(), DType.UINT8, "own")) {
      hostContext.copyFrom(context);
      backend.copyFromHost(hostContext, contextSlot);
      runtime.run(net.trunk());
      evaluations++;
      for (int[] at : steps) {
        for (int ch = 0; ch < c; ch++) {
          hostOwn.copyFrom(own);
          backend.copyFromHost(hostOwn, ownSlot);
          runtime.run(net.head());
          evaluations++;
          byte[] chosen = chooser.choose(net, ch, at, new BackendLogits(net));
          for (int b = 0; b < n; b++) {
            for (int k = 0; k < at.length; k++) {
              own[(b * c + ch) * area + at[k]] = chosen[b * at.length + k];
            }
          }
        }
      }
    }
    return own;
  }

  /**
   * The positions of an r×r group settled together: all of them for type A (m = 1); for type B, one
   * list per place (u, v) of the m×m patches in raster order, each holding that place of every patch.
   */
  static int[][] patchSteps(int r, int m) {
    int[][] steps = new int[m * m][];
    int per = (r / m) * (r / m);
    for (int u = 0; u < m; u++) {
      for (int v = 0; v < m; v++) {
        int[] at = new int[per];
        int k = 0;
        for (int i = u; i < r; i += m) {
          for (int j = v; j < r; j += m) {
            at[k++] = i * r + j;
          }
        }
        steps[u * m + v] = at;
      }
    }
    return steps;
  }

  /** A network's logits on the backend, read to the host only if a chooser asks for single values. */
  private final class BackendLogits implements SubpixelChooser.Logits {
    private final Network net;
    private float[] host;

    BackendLogits(Network net) {
      this.net = net;
    }

    @Override
    public Tensor tensor() {
      return runtime.tensor(net.logits());
    }

    @Override
    public void subpixel(int image, int position, int channel, float[] out) {
      if (host == null) {
        try (HostMemory memory = HostMemory.create("logits"); HostTensor t = backend.toHost(tensor(), memory)) {
          host = t.toFloatArray();
        }
      }
      int levels = spec.levels(), units = spec.channels() * levels, side = net.resolution(), area = side * side;
      for (int l = 0; l < levels; l++) {
        out[l] = host[(image * units + channel * levels + l) * area + position];
      }
    }
  }

  /** {@code x_{2r}} from its four pixel groups: G1 upper-left, G2 upper-right, G3 lower-left, G4 lower-right. */
  static byte[] interleave(byte[][] groups, int n, int c, int r) {
    int s = 2 * r;
    byte[] out = new byte[n * c * s * s];
    for (int g = 0; g < 4; g++) {
      int dy = g / 2, dx = g % 2;
      for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < c; ch++) {
          for (int i = 0; i < r; i++) {
            for (int j = 0; j < r; j++) {
              out[((b * c + ch) * s + 2 * i + dy) * s + 2 * j + dx] = groups[g][((b * c + ch) * r + i) * r + j];
            }
          }
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    host.close();
  }
}
