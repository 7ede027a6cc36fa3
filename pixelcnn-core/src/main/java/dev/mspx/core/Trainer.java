package dev.mspx.core;

import dev.mspx.api.AdamOp;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.core.data.ImageSet;
import dev.mspx.api.Tensor;
import dev.mspx.api.plan.ParameterSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a plan's parameters on an image set (DESIGN.md section 6): batches in a new random permutation
 * each epoch (drawn from the seed and the epoch number alone, so a position and the seed restore the
 * data order exactly), the last partial batch dropped, loss = mean bits/dim of the batch, Adam.
 * A run resumed from a checkpoint takes the same next steps, bit for bit, as one never interrupted.
 *
 * <p>Data-parallel training runs this same loop on every replica: a {@link Shard} says which slice of
 * each global batch ({@link Settings#batch()}) the replica computes, and a {@link GradientExchange}
 * sums the replicas' gradients between {@link #computeGradients()} and {@link #applyUpdate(double)},
 * so that every replica applies the same Adam update and the run takes the steps one process would
 * take on the global batch (up to the order in which float gradients are added; see dev.mspx.spark).
 */
public final class Trainer implements AutoCloseable {

  /** The settings of a run; {@code clip} 0 means no gradient clipping. */
  public record Settings(int batch, long seed, AdamOp adam, double clip) {
    public Settings {
      if (batch < 1) {
        throw new IllegalArgumentException("batch must be at least 1, got " + batch);
      }
    }

    /** DESIGN.md's defaults: batch 32, Adam at 1e-3, no clipping. */
    public static Settings defaults(long seed) {
      return new Settings(32, seed, AdamOp.defaults(), 0);
    }
  }

  /**
   * Replica {@code rank} of {@code replicas}: it takes images {@code [rank·b, (rank+1)·b)} of every
   * global batch of the epoch's permutation, {@code b = batch / replicas}.
   */
  public record Shard(int rank, int replicas) {
    /** One process computing the whole batch. */
    public static final Shard WHOLE = new Shard(0, 1);

    public Shard {
      if (replicas < 1 || rank < 0 || rank >= replicas) {
        throw new IllegalArgumentException("replica " + rank + " of " + replicas + ": need 0 <= rank < replicas");
      }
    }
  }

  /**
   * Sums one step's gradients over the replicas. Called on every replica after {@link
   * #computeGradients()} has left its slice's gradients (scaled for the mean over the global batch) in
   * {@link #gradientTensors()}; it must leave there the sum over all replicas, the same bits on each,
   * and return the global batch's loss in nats.
   */
  @FunctionalInterface
  public interface GradientExchange {
    /** One process: nothing to exchange. */
    GradientExchange NONE = (trainer, nats) -> nats;

    double exchange(Trainer trainer, double localNats);
  }

  private final Parameters parameters;
  private final ImageSet data;
  private final Shard shard;
  private final GradientExchange exchange;
  private final Settings settings;
  private final String config;
  private final PlanRuntime runtime;
  private final Adam adam;
  private final HostMemory host = HostMemory.create("trainer");
  private final HostTensor images;
  private final HostTensor labels;
  private final int batchesPerEpoch;
  private int[] permutation;
  private long epoch;
  private long batchInEpoch;

  public Trainer(Parameters parameters, ImageSet data, Settings settings, String config) {
    this(parameters, data, settings, config, Shard.WHOLE, GradientExchange.NONE);
  }

  /** A replica of data-parallel training: its slice of every global batch of {@code settings.batch()}. */
  public Trainer(Parameters parameters, ImageSet data, Settings settings, String config, Shard shard, GradientExchange exchange) {
    if (settings.batch() % shard.replicas() != 0) {
      throw new IllegalArgumentException("the global batch " + settings.batch() + " does not split evenly over "
          + shard.replicas() + " replicas: give a batch that is a multiple of the replicas");
    }
    ExecutionPlan plan = parameters.plan();
    int c = plan.spec().channels(), size = plan.spec().size();
    if (data.channels() != c || data.height() != size || data.width() != size) {
      throw new IllegalArgumentException(
          "data " + data.describe() + " has images " + data.channels() + "×" + data.height() + "×" + data.width()
              + " but model " + plan.spec().name() + " takes " + c + "×" + size + "×" + size);
    }
    boolean labelled = !plan.spec().conditioning(ConditioningKind.CLASS_LABEL).isEmpty();
    if (plan.spec().conditioning().size() > (labelled ? 1 : 0)) {
      throw new IllegalArgumentException(
          "model " + plan.spec().name() + " is conditioned on " + plan.spec().conditioning()
              + "; the trainer feeds class labels only");
    }
    if (labelled) {
      ConditioningSpec label = plan.spec().conditioning().get(0);
      if (!data.hasLabels() || data.classes() > label.width()) {
        throw new IllegalArgumentException(
            "model " + plan.spec().name() + " is conditioned on " + label.width() + " classes but data " + data.describe()
                + (data.hasLabels() ? " has " + data.classes() : " has no labels"));
      }
    }
    this.batchesPerEpoch = data.size() / settings.batch();
    if (batchesPerEpoch < 1) {
      throw new IllegalArgumentException(
          "data " + data.describe() + " holds " + data.size() + " images, fewer than one batch of " + settings.batch());
    }
    this.parameters = parameters;
    this.data = data;
    this.settings = settings;
    this.config = config;
    this.shard = shard;
    this.exchange = exchange;
    int local = settings.batch() / shard.replicas();
    this.runtime = new PlanRuntime(parameters, local);
    this.adam = new Adam(parameters, settings.adam(), settings.clip());
    this.images = host.allocate(Shape.nchw(local, c, size, size), DType.UINT8, "batch.images");
    this.labels = labelled ? host.allocate(Shape.of(local), DType.INT32, "batch.labels") : null;
    this.permutation = permutation(settings.seed(), 0, data.size());
  }

  /** A uniformly random permutation of {@code 0..n-1} for one epoch, from the seed and the epoch alone. */
  static int[] permutation(long seed, long epoch, int n) {
    SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** Steps taken so far. */
  public long steps() {
    return adam.steps();
  }

  public long epoch() {
    return epoch;
  }

  /** The batch within the current epoch that the next step takes. */
  public long batchInEpoch() {
    return batchInEpoch;
  }

  public Shard shard() {
    return shard;
  }

  public Settings settings() {
    return settings;
  }

  /**
   * One step on the next batch: this replica's gradients, the exchange, Adam. Returns the global
   * batch's loss in bits/dim (before the update).
   */
  public double step() {
    double nats = computeGradients();
    return applyUpdate(exchange.exchange(this, nats));
  }

  /**
   * The gradients of this replica's slice of the next global batch, scaled for the mean over the whole
   * global batch, into {@link #gradientTensors()}; returns the slice's loss in nats. Neither the
   * parameters nor the data position change.
   */
  public double computeGradients() {
    int b = runtime.batch();
    int[] indices = new int[b];
    System.arraycopy(permutation, (int) (batchInEpoch * settings.batch() + (long) shard.rank() * b), indices, 0, b);
    data.gather(indices, images);
    runtime.setImages(images);
    if (labels != null) {
      data.gatherLabels(indices, labels);
      runtime.setConditioning(0, labels);
    }
    runtime.gradients(settings.batch());
    return runtime.nats();
  }

  /**
   * Adam's update from the gradients in {@link #gradientTensors()} (summed over the replicas), then on
   * to the next batch. {@code nats} is the global batch's loss; returns it in bits/dim.
   */
  public double applyUpdate(double nats) {
    double loss = parameters.plan().spec().bitsPerDim(nats, settings.batch());
    adam.update(runtime, loss);
    if (++batchInEpoch == batchesPerEpoch) {
      batchInEpoch = 0;
      epoch++;
      permutation = permutation(settings.seed(), epoch, data.size());
    }
    return loss;
  }

  /** The parameters' gradient tensors, in the plan's parameter order (what a {@link GradientExchange} sums). */
  public List<Tensor> gradientTensors() {
    List<Tensor> out = new ArrayList<>();
    for (ParameterSpec p : parameters.plan().parameters()) {
      out.add(runtime.tensor(p.gradient()));
    }
    return out;
  }

  /**
   * Moves the data position to batch {@code batchInEpoch} of epoch {@code epoch} (for a replica that
   * only computes gradients for parameters it is sent, step after step).
   */
  public void seek(long epoch, long batchInEpoch) {
    if (epoch < 0 || batchInEpoch < 0 || batchInEpoch >= batchesPerEpoch) {
      throw new IllegalArgumentException("no batch " + batchInEpoch + " of epoch " + epoch + " (" + batchesPerEpoch + " batches per epoch)");
    }
    if (epoch != this.epoch) {
      permutation = permutation(settings.seed(), epoch, data.size());
    }
    this.epoch = epoch;
    this.batchInEpoch = batchInEpoch;
  }

  /** The state of the run as a checkpoint. */
  public Checkpoint checkpoint() {
    Map<String, String> meta = new HashMap<>();
    meta.put(Checkpoint.KIND, Checkpoint.TRAINING);
    meta.put(Checkpoint.CONFIG, config);
    meta.put(Checkpoint.MODEL, parameters.plan().spec().name());
    meta.put(Checkpoint.FINGERPRINT, parameters.plan().spec().fingerprint());
    meta.put(Checkpoint.STEP, Long.toString(adam.steps()));
    meta.put(Checkpoint.EPOCH, Long.toString(epoch));
    meta.put(Checkpoint.BATCH_IN_EPOCH, Long.toString(batchInEpoch));
    meta.put(Checkpoint.SEED, Long.toString(settings.seed()));
    meta.put(Checkpoint.BATCH, Integer.toString(settings.batch()));
    meta.put(Checkpoint.LEARNING_RATE, Double.toString(settings.adam().learningRate()));
    meta.put(Checkpoint.CLIP, Double.toString(settings.clip()));
    return new Checkpoint(meta, Checkpoint.capture(parameters, adam));
  }

  /**
   * Continues from a checkpoint of the same config: parameters, Adam's moments and step, and the data
   * position. The batch size and seed must be the checkpoint's, or the data order would differ.
   */
  public void resume(Checkpoint checkpoint, Path file) {
    checkpoint.checkFits(parameters.plan(), file);
    if (!checkpoint.isTraining()) {
      throw new CheckpointException(file + " is an inference checkpoint (parameters only, no optimiser state): it can be"
          + " evaluated and sampled but not resumed; train from it with a new --out instead");
    }
    if (checkpoint.getLong(Checkpoint.BATCH) != settings.batch() || checkpoint.getLong(Checkpoint.SEED) != settings.seed()) {
      throw new CheckpointException(
          file + " was trained with batch " + checkpoint.get(Checkpoint.BATCH) + " and seed " + checkpoint.get(Checkpoint.SEED)
              + "; resume with the same (--batch " + checkpoint.get(Checkpoint.BATCH) + " --seed " + checkpoint.get(Checkpoint.SEED) + ")");
    }
    checkpoint.restore(parameters, adam, file);
    epoch = checkpoint.getLong(Checkpoint.EPOCH);
    batchInEpoch = checkpoint.getLong(Checkpoint.BATCH_IN_EPOCH);
    permutation = permutation(settings.seed(), epoch, data.size());
  }

  @Override
  public void close() {
    images.close();
    if (labels != null) {
      labels.close();
    }
    adam.close();
    runtime.close();
    host.close();
  }
}
