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
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains a plan's parameters on an image set (DESIGN.md section 6): batches in a new random permutation
 * each epoch (drawn from the seed and the epoch number alone, so a position and the seed restore the
 * data order exactly), the last partial batch dropped, loss = mean bits/dim of the batch, Adam.
 * A run resumed from a checkpoint takes the same next steps, bit for bit, as one never interrupted.
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

  private final Parameters parameters;
  private final ImageSet data;
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
    this.runtime = new PlanRuntime(parameters, settings.batch());
    this.adam = new Adam(parameters, settings.adam(), settings.clip());
    this.images = host.allocate(Shape.nchw(settings.batch(), c, size, size), DType.UINT8, "batch.images");
    this.labels = labelled ? host.allocate(Shape.of(settings.batch()), DType.INT32, "batch.labels") : null;
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

  /** One step on the next batch; returns its loss in bits/dim (before the update). */
  public double step() {
    int b = settings.batch();
    int[] indices = new int[b];
    System.arraycopy(permutation, (int) (batchInEpoch * b), indices, 0, b);
    data.gather(indices, images);
    runtime.setImages(images);
    if (labels != null) {
      data.gatherLabels(indices, labels);
      runtime.setConditioning(0, labels);
    }
    runtime.gradients();
    double loss = runtime.bitsPerDim();
    adam.update(runtime, loss);
    if (++batchInEpoch == batchesPerEpoch) {
      batchInEpoch = 0;
      epoch++;
      permutation = permutation(settings.seed(), epoch, data.size());
    }
    return loss;
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
