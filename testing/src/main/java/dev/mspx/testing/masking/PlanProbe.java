package dev.mspx.testing.masking;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Init;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.core.GenerationOrder;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.core.Scorer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A plan on a backend with random weights, asked for the logits or the log-likelihood of lists of
 * images. Images go through in batches of a fixed size (the last one padded with the first image), so
 * that the image at batch position b always meets the same kernels, with the same layout and strides,
 * whatever else is in the batch: {@link #logits} of two lists agree bit for bit at every position where
 * the inputs that a prediction depends on agree.
 *
 * <p>Weights: every parameter is drawn from {@code U(±gain/√fan_in)} (the initialiser's bound times
 * {@code gain}); the conditioning tables and projections, zero at initialisation, from {@code
 * U(±gain/2)} and {@code U(±gain/√width)}, so that conditioning moves the outputs. The conditioning
 * inputs (a label, a vector) are drawn from the same seed and given to every image.
 */
public final class PlanProbe implements AutoCloseable {

  private final ExecutionPlan plan;
  private final ModelSpec spec;
  private final Backend backend;
  private final HostMemory host;
  private final Parameters parameters;
  private final PlanRuntime runtime;
  private final HostTensor images;
  private final List<HostTensor> conditioning = new ArrayList<>();
  private final int batch;
  private final GenerationOrder order;

  private PlanProbe(ExecutionPlan plan, Backend backend, long seed, double gain, int batch) {
    this.plan = plan;
    this.spec = plan.spec();
    this.backend = backend;
    this.batch = batch;
    this.order = GenerationOrder.of(spec);
    this.host = HostMemory.create("plan-probe");
    Parameters p = null;
    PlanRuntime rt = null;
    HostTensor img = null;
    try {
      p = Parameters.initialise(plan, backend, seed);
      randomise(p, new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L), gain);
      rt = new PlanRuntime(p, batch, PlanRuntime.Mode.INFERENCE); // forward and loss only
      int c = spec.channels(), h = spec.size();
      img = host.allocate(Shape.nchw(batch, c, h, h), DType.UINT8, "probe.images");
      SplittableRandom cond = new SplittableRandom(seed + 17);
      for (ConditioningSpec cs : spec.conditioning()) {
        if (cs.kind() == ConditioningKind.CLASS_LABEL) {
          int label = cond.nextInt(cs.width());
          int[] labels = new int[batch];
          java.util.Arrays.fill(labels, label);
          conditioning.add(host.allocate(Shape.of(batch), DType.INT32, "probe.labels").copyFrom(labels));
        } else {
          float[] v = new float[cs.width()];
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) (cond.nextDouble() * 2 - 1);
          }
          float[] all = new float[batch * v.length];
          for (int b = 0; b < batch; b++) {
            System.arraycopy(v, 0, all, b * v.length, v.length);
          }
          conditioning.add(host.allocate(Shape.of(batch, cs.width()), DType.FLOAT32, "probe.vectors").copyFrom(all));
        }
      }
    } catch (RuntimeException e) {
      for (HostTensor t : conditioning) {
        t.close();
      }
      if (img != null) {
        img.close();
      }
      if (rt != null) {
        rt.close();
      }
      if (p != null) {
        p.close();
      }
      host.close();
      throw e;
    }
    this.parameters = p;
    this.runtime = rt;
    this.images = img;
  }

  /**
   * Binds {@code plan} to {@code backend} (which the caller keeps and closes) with weights drawn from
   * {@code seed}, for batches of {@code batch} images.
   */
  public static PlanProbe open(ExecutionPlan plan, Backend backend, long seed, double gain, int batch) {
    return new PlanProbe(plan, backend, seed, gain, batch);
  }

  /** Overwrites every parameter as the class comment says. */
  static void randomise(Parameters p, SplittableRandom random, double gain) {
    for (ParameterSpec ps : p.plan().parameters()) {
      var slot = p.plan().slot(ps.slot());
      float[] v = new float[Math.toIntExact(slot.shape().elements())];
      double bound;
      if (ps.init() instanceof Init.Uniform u) {
        bound = gain * u.bound();
      } else if (ps.name().endsWith(".projection")) {
        bound = gain / Math.sqrt(slot.shape().dim(0));
      } else {
        bound = gain / 2;
      }
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
      }
      p.write(ps.name(), v);
    }
  }

  public ExecutionPlan plan() {
    return plan;
  }

  public GenerationOrder order() {
    return order;
  }

  public int batch() {
    return batch;
  }

  /** The network that predicts the sub-pixels at full-image position (y, x). */
  public Network networkAt(int y, int x) {
    for (GenerationOrder.Piece p : order.pieces()) {
      if (y >= p.rowStart() && x >= p.colStart() && (y - p.rowStart()) % p.stride() == 0
          && (x - p.colStart()) % p.stride() == 0) {
        return plan.networks().get(p.network());
      }
    }
    throw new IllegalArgumentException("(" + y + ", " + x + ") is outside the " + spec.size() + "x" + spec.size() + " image");
  }

  /** The piece of the full image that {@code net} predicts. */
  public GenerationOrder.Piece piece(Network net) {
    int index = plan.networks().indexOf(net);
    return order.pieces().stream().filter(p -> p.network() == index).findFirst().orElseThrow();
  }

  /**
   * The logits of {@code net} ({@code [C·L, r, r]} flattened) for every image ({@code [C, H, W]}
   * flattened, values below the levels), in the images' order.
   */
  public List<float[]> logits(List<int[]> imgs, Network net) {
    List<float[]> out = new ArrayList<>(imgs.size());
    for (int start = 0; start < imgs.size(); start += batch) {
      load(imgs, start);
      runtime.prepare();
      runtime.forward(net);
      try (HostTensor t = backend.toHost(runtime.tensor(net.logits()), host)) {
        float[] all = t.toFloatArray();
        int per = all.length / batch;
        for (int b = 0; b < batch && start + b < imgs.size(); b++) {
          float[] one = new float[per];
          System.arraycopy(all, b * per, one, 0, per);
          out.add(one);
        }
      }
    }
    return out;
  }

  /**
   * Every sub-pixel's logits ({@code [C·L, H, W]} flattened, each from the network that predicts it)
   * for every image, from the networks up to and including {@code lastNetwork} (the rest stay 0).
   */
  public List<float[]> fullLogits(List<int[]> imgs, int lastNetwork) {
    int c = spec.channels(), levels = spec.levels(), h = spec.size();
    List<float[]> out = new ArrayList<>(imgs.size());
    for (int start = 0; start < imgs.size(); start += batch) {
      load(imgs, start);
      runtime.prepare();
      int n = Math.min(batch, imgs.size() - start);
      float[][] chunk = new float[n][c * levels * h * h];
      for (GenerationOrder.Piece p : order.pieces()) {
        if (p.network() > lastNetwork) {
          continue;
        }
        Network net = plan.networks().get(p.network());
        runtime.forward(net);
        try (HostTensor t = backend.toHost(runtime.tensor(net.logits()), host)) {
          float[] v = t.toFloatArray();
          int side = p.side();
          for (int b = 0; b < n; b++) {
            for (int u = 0; u < c * levels; u++) {
              for (int i = 0; i < side; i++) {
                for (int j = 0; j < side; j++) {
                  chunk[b][(u * h + p.rowStart() + p.stride() * i) * h + p.colStart() + p.stride() * j] =
                      v[((b * c * levels + u) * side + i) * side + j];
                }
              }
            }
          }
        }
      }
      out.addAll(List.of(chunk));
    }
    return out;
  }

  /**
   * −log p(image) in nats for every image, from the runtime's {@link Scorer} (every network's nll
   * summed over its sub-pixels).
   */
  public double[] nats(List<int[]> imgs) {
    double[] out = new double[imgs.size()];
    Scorer scorer = new Scorer(runtime);
    for (int start = 0; start < imgs.size(); start += batch) {
      load(imgs, start);
      double[] chunk = scorer.nats();
      System.arraycopy(chunk, 0, out, start, Math.min(batch, imgs.size() - start));
    }
    return out;
  }

  /** Images start..start+batch-1 (the first image where the list ends) and the conditioning. */
  private void load(List<int[]> imgs, int start) {
    int per = spec.channels() * spec.size() * spec.size();
    for (int b = 0; b < batch; b++) {
      int[] img = start + b < imgs.size() ? imgs.get(start + b) : imgs.get(0);
      if (img.length != per) {
        throw new IllegalArgumentException("an image of " + img.length + " sub-pixels for a plan of " + per);
      }
      for (int i = 0; i < per; i++) {
        images.setUnsignedByte((long) b * per + i, img[i]);
      }
    }
    runtime.setImages(images);
    // The arena may reuse the conditioning inputs' memory once they are read: set them every time.
    for (int i = 0; i < conditioning.size(); i++) {
      runtime.setConditioning(i, conditioning.get(i));
    }
  }

  @Override
  public void close() {
    for (HostTensor t : conditioning) {
      t.close();
    }
    images.close();
    runtime.close();
    parameters.close();
    host.close();
  }
}
