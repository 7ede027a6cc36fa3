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
 *       then the head once per colour channel; every pixel of the group is drawn in parallel.
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
    List<Network> nets = runtime.plan().networks();
    int n = runtime.batch(), c = spec.channels();
    byte[] image = raster(nets.get(0), random);
    int r = spec.base();
    if (spec.kind() == ModelKind.MULTISCALE) {
      for (int k = 0; k < spec.upscalings(); k++, r *= 2) {
        byte[][] groups = new byte[4][];
        groups[0] = image;
        for (int g = 2; g <= 4; g++) {
          groups[g - 1] = group(nets.get(1 + 3 * k + (g - 2)), groups, g, r, random);
        }
        image = interleave(groups, n, c, r);
      }
    }
    HostTensor out = memory.allocate(Shape.nchw(n, c, spec.size(), spec.size()), DType.UINT8, "samples");
    out.copyFrom(image);
    return out;
  }

  /** The raster loop of a gated PixelCNN over its own image: one evaluation per sub-pixel. */
  private byte[] raster(Network net, SplittableRandom[] random) {
    if (rasterMode == RasterMode.CACHED) {
      try (CachedRaster cached = new CachedRaster(runtime, net)) {
        byte[] image = cached.sample(random);
        evaluations++;
        positionsComputed += cached.positionsComputed();
        return image;
      }
    }
    int n = runtime.batch(), c = spec.channels(), side = net.resolution(), area = side * side;
    byte[] image = new byte[n * c * area];
    Tensor own = runtime.tensor(net.own());
    try (HostTensor hostImage = host.allocate(own.shape(), DType.UINT8, "image");
        Draw draw = new Draw(net, n, c, side)) {
      for (int i = 0; i < side; i++) {
        for (int j = 0; j < side; j++) {
          for (int ch = 0; ch < c; ch++) {
            hostImage.copyFrom(image);
            backend.copyFromHost(hostImage, own);
            runtime.run(net.head());
            evaluations++;
            byte[] drawn = draw.draw(random);
            for (int b = 0; b < n; b++) {
              int at = ((b * c + ch) * side + i) * side + j;
              image[at] = drawn[at];
            }
          }
        }
      }
    }
    return image;
  }

  /** One pixel group: trunk once over the earlier groups, then the head once per colour. */
  private byte[] group(Network net, byte[][] groups, int g, int r, SplittableRandom[] random) {
    int n = runtime.batch(), c = spec.channels(), area = r * r;
    byte[] context = new byte[n * c * (g - 1) * area];
    for (int b = 0; b < n; b++) {
      for (int e = 0; e < g - 1; e++) {
        System.arraycopy(groups[e], b * c * area, context, (b * (g - 1) + e) * c * area, c * area);
      }
    }
    byte[] own = new byte[n * c * area];
    Tensor contextSlot = runtime.tensor(net.context());
    Tensor ownSlot = runtime.tensor(net.own());
    try (HostTensor hostContext = host.allocate(contextSlot.shape(), DType.UINT8, "context");
        HostTensor hostOwn = host.allocate(ownSlot.shape(), DType.UINT8, "own");
        Draw draw = new Draw(net, n, c, r)) {
      hostContext.copyFrom(context);
      backend.copyFromHost(hostContext, contextSlot);
      runtime.run(net.trunk());
      evaluations++;
      for (int ch = 0; ch < c; ch++) {
        hostOwn.copyFrom(own);
        backend.copyFromHost(hostOwn, ownSlot);
        runtime.run(net.head());
        evaluations++;
        byte[] drawn = draw.draw(random);
        for (int b = 0; b < n; b++) {
          System.arraycopy(drawn, (b * c + ch) * area, own, (b * c + ch) * area, area);
        }
      }
    }
    return own;
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

  /** Draws every sub-pixel of a network's output from its logits with fresh uniforms. */
  private final class Draw implements AutoCloseable {
    private final Network net;
    private final Tensor uniforms;
    private final Tensor drawn;
    private final HostTensor hostUniforms;
    private final HostTensor hostDrawn;
    private final float[] values;

    Draw(Network net, int n, int c, int side) {
      this.net = net;
      Shape s = Shape.nchw(n, c, side, side);
      this.uniforms = backend.allocate(s, DType.FLOAT32, net.name() + ".uniforms");
      this.drawn = backend.allocate(s, DType.UINT8, net.name() + ".drawn");
      this.hostUniforms = host.allocate(s, DType.FLOAT32, "uniforms");
      this.hostDrawn = host.allocate(s, DType.UINT8, "drawn");
      this.values = new float[Math.toIntExact(s.elements())];
    }

    byte[] draw(SplittableRandom[] random) {
      uniforms(random, values);
      hostUniforms.copyFrom(values);
      backend.copyFromHost(hostUniforms, uniforms);
      backend.sampleCategorical(runtime.tensor(net.logits()), uniforms, drawn);
      backend.copyToHost(drawn, hostDrawn);
      return hostDrawn.toByteArray();
    }

    @Override
    public void close() {
      uniforms.close();
      drawn.close();
      hostUniforms.close();
      hostDrawn.close();
    }
  }

  @Override
  public void close() {
    host.close();
  }
}
