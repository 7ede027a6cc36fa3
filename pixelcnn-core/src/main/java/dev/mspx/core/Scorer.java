package dev.mspx.core;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.Network;
import java.util.List;

/**
 * Exact log-likelihood of the images set on a runtime: every network's per-sub-pixel nll, summed per
 * image (DESIGN.md: {@code log p(x) = log p_base(x_b) + Σ log p(G_g | G_<g)}), and optionally each
 * sub-pixel's own term at its place in the full image.
 */
public final class Scorer {

  /** Receives one sub-pixel's negative log-probability in bits. */
  @FunctionalInterface
  public interface SubpixelSink {
    void accept(int image, int channel, int y, int x, double bits);
  }

  private final PlanRuntime runtime;
  private final ModelSpec spec;
  private final GenerationOrder order;

  public Scorer(PlanRuntime runtime) {
    this.runtime = runtime;
    this.spec = runtime.plan().spec();
    this.order = GenerationOrder.of(spec);
  }

  /** Nats per image, {@code -log p(x)}, for the batch set on the runtime. */
  public double[] nats() {
    return nats(null);
  }

  /** As {@link #nats()}, also handing every sub-pixel's term to {@code sink} (when not null). */
  public double[] nats(SubpixelSink sink) {
    int n = runtime.batch(), c = spec.channels();
    double[] nats = new double[n];
    runtime.prepare();
    List<Network> nets = runtime.plan().networks();
    try (HostMemory host = HostMemory.create("scorer")) {
      for (GenerationOrder.Piece piece : order.pieces()) {
        Network net = nets.get(piece.network());
        runtime.forward(net);
        runtime.loss(net);
        try (HostTensor nll = runtime.backend().toHost(runtime.tensor(net.nll()), host)) {
          float[] v = nll.toFloatArray();
          int side = piece.side(), area = side * side;
          for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
              for (int k = 0; k < area; k++) {
                double term = v[(b * c + ch) * area + k];
                nats[b] += term;
                if (sink != null) {
                  int i = k / side, j = k % side;
                  sink.accept(b, ch, piece.rowStart() + piece.stride() * i, piece.colStart() + piece.stride() * j, term / Math.log(2));
                }
              }
            }
          }
        }
      }
    }
    return nats;
  }

  /** Bits per dimension of one image's nats. */
  public double bitsPerDim(double nats) {
    return spec.bitsPerDim(nats, 1);
  }
}
