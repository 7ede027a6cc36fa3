package dev.mspx.core;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.plan.Network;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The sampling {@link SubpixelChooser}: every call draws fresh uniforms for the whole output of the
 * network ({@code N·C·side²} of them, in {@code [image][channel][position]} order, whatever the
 * positions settled), so that full and cached raster sampling consume the generator identically and
 * draw the same images. Logits on the backend are drawn there ({@link Backend#sampleCategorical});
 * logits on the host (cached raster) by the same inverse CDF in double.
 */
final class Draws implements SubpixelChooser, AutoCloseable {

  private final PlanRuntime runtime;
  private final Backend backend;
  private final SplittableRandom[] random;
  private final int n;
  private final int channels;
  private final int levels;
  private final HostMemory host = HostMemory.create("draws");
  private final Map<Shape, Buffers> buffers = new HashMap<>();

  /** The backend and host tensors of the draws of one output shape, made once. */
  private record Buffers(Tensor uniforms, Tensor drawn, HostTensor hostUniforms, HostTensor hostDrawn) {
    void close() {
      uniforms.close();
      drawn.close();
      hostUniforms.close();
      hostDrawn.close();
    }
  }

  /** {@code random}: one stream for the whole batch, or one per image (see {@link Sampler#uniforms}). */
  Draws(PlanRuntime runtime, SplittableRandom[] random) {
    this.runtime = runtime;
    this.backend = runtime.backend();
    this.random = random;
    this.n = runtime.batch();
    this.channels = runtime.plan().spec().channels();
    this.levels = runtime.plan().spec().levels();
  }

  @Override
  public byte[] choose(Network net, int channel, int[] positions, Logits logits) {
    int side = net.resolution(), area = side * side, count = n * channels * area;
    byte[] out = new byte[n * positions.length];
    if (logits.tensor() != null) {
      Shape s = Shape.nchw(n, channels, side, side);
      Buffers b = buffers.computeIfAbsent(s, k -> new Buffers(
          backend.allocate(k, DType.FLOAT32, net.name() + ".uniforms"), backend.allocate(k, DType.UINT8, net.name() + ".drawn"),
          host.allocate(k, DType.FLOAT32, "uniforms"), host.allocate(k, DType.UINT8, "drawn")));
      float[] uniforms = new float[count];
      Sampler.uniforms(random, uniforms);
      b.hostUniforms.copyFrom(uniforms);
      backend.copyFromHost(b.hostUniforms, b.uniforms);
      backend.sampleCategorical(logits.tensor(), b.uniforms, b.drawn);
      backend.copyToHost(b.drawn, b.hostDrawn);
      for (int image = 0; image < n; image++) {
        for (int k = 0; k < positions.length; k++) {
          out[image * positions.length + k] = (byte) b.hostDrawn.getUnsignedByte((long) (image * channels + channel) * area + positions[k]);
        }
      }
      return out;
    }
    float[] uniforms = new float[count];
    Sampler.uniforms(random, uniforms);
    float[] z = new float[levels];
    for (int image = 0; image < n; image++) {
      for (int k = 0; k < positions.length; k++) {
        logits.subpixel(image, positions[k], channel, z);
        out[image * positions.length + k] = (byte) inverseCdf(z, uniforms[(image * channels + channel) * area + positions[k]]);
      }
    }
    return out;
  }

  /** The reference backend's inverse CDF on one sub-pixel's L logits. */
  private int inverseCdf(float[] z, float u) {
    double max = Double.NEGATIVE_INFINITY;
    for (int l = 0; l < levels; l++) {
      max = Math.max(max, z[l]);
    }
    double sum = 0;
    for (int l = 0; l < levels; l++) {
      sum += Math.exp(z[l] - max);
    }
    double lse = max + Math.log(sum), cdf = 0;
    for (int l = 0; l < levels; l++) {
      cdf += Math.exp(z[l] - lse);
      if (cdf > u) {
        return l;
      }
    }
    return levels - 1; // rounding can leave the total just below u
  }

  @Override
  public void close() {
    buffers.values().forEach(Buffers::close);
    buffers.clear();
    host.close();
  }
}
