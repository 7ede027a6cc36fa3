package dev.mspx.samples;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.plan.Network;
import dev.mspx.core.Model;
import dev.mspx.core.PlanRuntime;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Super-resolution with a multiscale model's upscaling nets, the paper's model used as a conditional
 * sampler: the given image is group 1 of the first upscaling (the model's base size is the image's,
 * see {@link ModelFiles#load(java.nio.file.Path, dev.mspx.core.BackendModule, int, int)}), and each
 * upscaling draws groups 2, 3 and 4 in turn (trunk once over the known groups, head once per colour,
 * every pixel of a group at once), exactly as the sampler draws them after the base. The base net is
 * never run.
 */
final class Upscaler {

  private Upscaler() {}

  /** Result: the image {@code [C, S, S]} and the network evaluations it took. */
  record Result(byte[] image, long evaluations, double seconds) {}

  /** Upscales {@code image} ({@code [C, b, b]}, b the model's base) to the model's size, drawing from {@code seed}. */
  static Result upscale(Model model, byte[] image, long seed) {
    var spec = model.spec();
    if (spec.kind() != ModelKind.MULTISCALE) {
      throw new IllegalArgumentException("model " + model.name() + " is a raster model: it has no upscaling nets");
    }
    int c = spec.channels();
    if (image.length != c * spec.base() * spec.base()) {
      throw new IllegalArgumentException("image of " + image.length + " bytes; the model's first upscaling takes " + c + "×" + spec.base() + "×" + spec.base());
    }
    long start = System.nanoTime(), evaluations = 0;
    SplittableRandom random = new SplittableRandom(seed);
    List<Network> nets = model.plan().networks();
    Backend backend = model.backend();
    byte[] current = image;
    int r = spec.base();
    try (PlanRuntime runtime = new PlanRuntime(model.parameters(), 1, PlanRuntime.Mode.INFERENCE);
        HostMemory host = HostMemory.create("upscale")) {
      for (int k = 0; k < spec.upscalings(); k++, r *= 2) {
        byte[][] groups = new byte[4][];
        groups[0] = current;
        for (int g = 2; g <= 4; g++) {
          Network net = nets.get(1 + 3 * k + (g - 2));
          groups[g - 1] = group(runtime, backend, host, net, groups, g, c, r, random);
          evaluations += 1 + c;
        }
        current = interleave(groups, c, r);
      }
    }
    return new Result(current, evaluations, (System.nanoTime() - start) / 1e9);
  }

  private static byte[] group(PlanRuntime runtime, Backend backend, HostMemory host, Network net, byte[][] groups, int g, int c, int r,
      SplittableRandom random) {
    int area = r * r;
    byte[] context = new byte[c * (g - 1) * area];
    for (int e = 0; e < g - 1; e++) {
      System.arraycopy(groups[e], 0, context, e * c * area, c * area);
    }
    byte[] own = new byte[c * area];
    Tensor contextSlot = runtime.tensor(net.context());
    Tensor ownSlot = runtime.tensor(net.own());
    Shape s = Shape.nchw(1, c, r, r);
    try (HostTensor hostContext = host.allocate(contextSlot.shape(), DType.UINT8, "context");
        HostTensor hostOwn = host.allocate(ownSlot.shape(), DType.UINT8, "own");
        Tensor uniforms = backend.allocate(s, DType.FLOAT32, "uniforms");
        Tensor drawn = backend.allocate(s, DType.UINT8, "drawn");
        HostTensor hostUniforms = host.allocate(s, DType.FLOAT32, "uniforms");
        HostTensor hostDrawn = host.allocate(s, DType.UINT8, "drawn")) {
      hostContext.copyFrom(context);
      backend.copyFromHost(hostContext, contextSlot);
      runtime.run(net.trunk());
      for (int ch = 0; ch < c; ch++) {
        hostOwn.copyFrom(own);
        backend.copyFromHost(hostOwn, ownSlot);
        runtime.run(net.head());
        for (long i = 0; i < hostUniforms.shape().elements(); i++) {
          hostUniforms.setFloat(i, (float) random.nextDouble());
        }
        backend.copyFromHost(hostUniforms, uniforms);
        backend.sampleCategorical(runtime.tensor(net.logits()), uniforms, drawn);
        backend.copyToHost(drawn, hostDrawn);
        byte[] d = hostDrawn.toByteArray();
        System.arraycopy(d, ch * area, own, ch * area, area);
      }
    }
    return own;
  }

  /** {@code x_{2r}} from its groups: G1 upper-left, G2 upper-right, G3 lower-left, G4 lower-right of each 2×2 block. */
  static byte[] interleave(byte[][] groups, int c, int r) {
    int s = 2 * r;
    byte[] out = new byte[c * s * s];
    for (int g = 0; g < 4; g++) {
      int dy = g / 2, dx = g % 2;
      for (int ch = 0; ch < c; ch++) {
        for (int i = 0; i < r; i++) {
          for (int j = 0; j < r; j++) {
            out[(ch * s + 2 * i + dy) * s + 2 * j + dx] = groups[g][(ch * r + i) * r + j];
          }
        }
      }
    }
    return out;
  }
}
