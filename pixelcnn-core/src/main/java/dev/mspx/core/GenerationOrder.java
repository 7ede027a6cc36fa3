package dev.mspx.core;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.Network;
import java.util.ArrayList;
import java.util.List;

/**
 * The order in which a model generates the sub-pixels of an image (DESIGN.md section 5): a raster
 * model in raster order, colour by colour inside a pixel; a multiscale model in base raster order,
 * then upscaling by upscaling, group by group (all pixels of a group share a step; with type-B
 * upscaling, all pixels at one place of their M×M patch, patch places in raster order), colour by colour.
 * Also where each network's predictions land in the full image, so that a test can compare the
 * predictions of every sub-pixel.
 */
public final class GenerationOrder {

  /**
   * The full-image positions a network predicts: {@code (rowStart + stride·i, colStart + stride·j)}
   * for {@code i, j < side}.
   */
  public record Piece(int network, int rowStart, int colStart, int stride, int side) {}

  private final ModelSpec spec;
  private final int[] steps;
  private final int count;
  private final List<Piece> pieces;

  private GenerationOrder(ModelSpec spec) {
    this.spec = spec;
    int c = spec.channels(), h = spec.size();
    this.steps = new int[c * h * h];
    this.pieces = new ArrayList<>();
    int b = spec.base();
    int stride = h / b;
    pieces.add(new Piece(0, 0, 0, stride, b));
    for (int i = 0; i < b; i++) {
      for (int j = 0; j < b; j++) {
        for (int ch = 0; ch < c; ch++) {
          steps[index(ch, i * stride, j * stride)] = (i * b + j) * c + ch;
        }
      }
    }
    int t = b * b * c;
    if (spec.kind() == ModelKind.MULTISCALE) {
      int network = 1, m = patch(spec);
      for (int k = 0; k < spec.upscalings(); k++) {
        int r = b << k, s = h / (2 * r);
        for (int g = 2; g <= 4; g++) {
          int dy = (g - 1) / 2, dx = (g - 1) % 2;
          pieces.add(new Piece(network++, dy * s, dx * s, 2 * s, r));
          for (int i = 0; i < r; i++) {
            for (int j = 0; j < r; j++) {
              // Type B: the pixel's place in its M×M patch, raster order; all patches share a step.
              int inPatch = (i % m) * m + j % m;
              for (int ch = 0; ch < c; ch++) {
                steps[index(ch, dy * s + 2 * s * i, dx * s + 2 * s * j)] = t + inPatch * c + ch;
              }
            }
          }
          t += m * m * c;
        }
      }
    }
    this.count = t;
  }

  /** The patch side M inside which a group's pixels are generated in raster order: 1 for type A. */
  public static int patch(ModelSpec spec) {
    return spec.upscaling().map(u -> u.type() == dev.mspx.api.model.UpscaleType.B ? u.patch() : 1).orElse(1);
  }

  public static GenerationOrder of(ModelSpec spec) {
    return new GenerationOrder(spec);
  }

  private int index(int c, int y, int x) {
    int h = spec.size();
    return (c * h + y) * h + x;
  }

  /** The step at which sub-pixel (c, y, x) is generated. */
  public int step(int c, int y, int x) {
    return steps[index(c, y, x)];
  }

  /** Number of generation steps (sub-pixels of one group and colour share one). */
  public int stepCount() {
    return count;
  }

  public List<Piece> pieces() {
    return pieces;
  }

  /**
   * Every sub-pixel's logits, {@code [n][C·L][H][W]} flattened channel-major, each from the network
   * that predicts it: runs the pyramid and every network's forward pass on the images already set.
   */
  public float[] fullLogits(PlanRuntime runtime) {
    int n = runtime.batch(), c = spec.channels(), levels = spec.levels(), h = spec.size();
    float[] out = new float[n * c * levels * h * h];
    runtime.prepare();
    List<Network> networks = runtime.plan().networks();
    try (HostMemory host = HostMemory.create("full-logits")) {
      for (Piece p : pieces) {
        Network net = networks.get(p.network());
        runtime.forward(net);
        try (HostTensor logits = runtime.backend().toHost(runtime.tensor(net.logits()), host)) {
          float[] v = logits.toFloatArray();
          int side = p.side();
          for (int b = 0; b < n; b++) {
            for (int u = 0; u < c * levels; u++) {
              for (int i = 0; i < side; i++) {
                for (int j = 0; j < side; j++) {
                  out[((b * c * levels + u) * h + p.rowStart() + p.stride() * i) * h + p.colStart() + p.stride() * j] =
                      v[((b * c * levels + u) * side + i) * side + j];
                }
              }
            }
          }
        }
      }
    }
    return out;
  }
}
