package dev.mspx.core;

import com.google.inject.AbstractModule;
import com.google.inject.ConfigurationException;
import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.ProvisionException;
import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanProvider;
import dev.mspx.core.data.ImageSet;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A compiled model on a backend, with its parameters: the one object the command line, the benchmarks,
 * the device check, the Spark tasks and the test kit open. It trains, evaluates (exact bits/dim and
 * every sub-pixel's term), samples (multiscale or raster, cached or not), saves and resumes, and owns
 * the runtimes (arenas) it makes for that: closing the model closes them, its parameters and its
 * backend.
 *
 * <p>Opened from a plan ({@link #create(ExecutionPlan, Module, long)}, or by the model's name through
 * the {@link ModelCatalog}) or from a checkpoint ({@link #load(Path, Module)}, which finds the plan by
 * the name the checkpoint records), always through a Guice injector of the plan and exactly one backend
 * module ({@link BackendModule#select}: explicit, or the best available with every reason logged).
 */
public final class Model implements AutoCloseable {

  /** Inference arenas are kept below this when the batch is chosen for the caller. */
  static final long DEFAULT_ARENA_BUDGET = 512L << 20;

  /** The result of {@link #evaluate}: {@code -log p} summed over the images, and bits/dim. */
  public record Evaluation(int images, double nats, double bitsPerDim) {}

  /** Images drawn by {@link #sample}, {@code uint8 [N, C, H, W]}, with what it took. */
  public record Samples(HostTensor images, long evaluations, double seconds) implements AutoCloseable {
    @Override
    public void close() {
      images.close();
    }
  }

  private final String name;
  private final ExecutionPlan plan;
  private final Backend backend;
  private final Parameters parameters;
  private final Checkpoint origin;
  private final Map<Integer, PlanRuntime> runtimes = new HashMap<>();
  private final List<Trainer> trainers = new ArrayList<>();
  private boolean closed;

  private Model(String name, ExecutionPlan plan, Backend backend, Parameters parameters, Checkpoint origin) {
    this.name = name;
    this.plan = plan;
    this.backend = backend;
    this.parameters = parameters;
    this.origin = origin;
  }

  // ------------------------------------------------------------------------------------------ opening

  /** A new model called {@code name} in the {@link ModelCatalog}, initialised from {@code seed}. */
  public static Model create(String name, Module backend, long seed) {
    ExecutionPlan plan = ModelCatalog.load().plan(name);
    return open(name, plan, backend, b -> Parameters.initialise(plan, b, seed), null);
  }

  /** A new model of {@code plan}, initialised from {@code seed} (DESIGN's U(±1/√fan_in)). */
  public static Model create(ExecutionPlan plan, Module backend, long seed) {
    return open(plan.spec().catalogName(), plan, backend, b -> Parameters.initialise(plan, b, seed), null);
  }

  /**
   * The model a checkpoint was made for, with its parameters: the plan is the compiled model of the name
   * the checkpoint records (or, if that name is unknown, the one model whose fingerprint it records).
   * A checkpoint of a model that is not on the class path is refused naming the model.
   */
  public static Model load(Path checkpoint, Module backend) {
    Checkpoint cp = Checkpoint.read(checkpoint);
    ModelCatalog catalog = ModelCatalog.load();
    String recorded = cp.modelName();
    Optional<PlanProvider> provider = catalog.find(recorded).or(() -> catalog.byFingerprint(cp.get(Checkpoint.FINGERPRINT)));
    if (provider.isEmpty()) {
      throw new CheckpointException(checkpoint + " was made for model '" + recorded + "' (declared as "
          + cp.metadata().getOrDefault(Checkpoint.MODEL, "?") + ", fingerprint " + cp.get(Checkpoint.FINGERPRINT)
          + "), which is not on the class path: put the jar that declares it on the class path (e.g. MSPX_CLASSPATH=my-models.jar);"
          + " known models " + catalog.names());
    }
    return load(checkpoint, cp, provider.get().name(), provider.get().plan(), backend);
  }

  /** As {@link #load(Path, Module)} with a plan given (it must be the checkpoint's model). */
  public static Model load(Path checkpoint, ExecutionPlan plan, Module backend) {
    Checkpoint cp = Checkpoint.read(checkpoint);
    return load(checkpoint, cp, cp.modelName(), plan, backend);
  }

  private static Model load(Path file, Checkpoint cp, String name, ExecutionPlan plan, Module backend) {
    cp.checkFits(plan, file);
    return open(name, plan, backend, b -> Parameters.of(plan, b, cp.parameterValues(plan)), cp);
  }

  private static Model open(String name, ExecutionPlan plan, Module backendModule, Function<Backend, Parameters> parameters, Checkpoint origin) {
    Injector injector;
    try {
      injector = Guice.createInjector(backendModule, new AbstractModule() {
        @Override
        protected void configure() {
          bind(ExecutionPlan.class).toInstance(plan);
        }
      });
    } catch (CreationException e) {
      throw new IllegalArgumentException("cannot assemble model " + name + ": " + e.getErrorMessages().iterator().next().getMessage()
          + " (give exactly one backend module)", e);
    }
    Backend backend = provide(injector);
    try {
      return new Model(name, plan, backend, parameters.apply(backend), origin);
    } catch (RuntimeException e) {
      backend.close();
      throw e;
    }
  }

  /** The bound backend; Guice's wrapping removed, so a backend's own error reaches the user as it is. */
  private static Backend provide(Injector injector) {
    try {
      return injector.getInstance(Backend.class);
    } catch (ProvisionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      throw e;
    } catch (ConfigurationException e) {
      throw new IllegalArgumentException("no backend bound: give a BackendModule (e.g. BackendModule.select(\"auto\"))", e);
    }
  }

  // --------------------------------------------------------------------------------------- properties

  /** The name it is known by in the catalog and its checkpoints, e.g. {@code fashion28}. */
  public String name() {
    return name;
  }

  public ExecutionPlan plan() {
    return plan;
  }

  public ModelSpec spec() {
    return plan.spec();
  }

  public Backend backend() {
    return backend;
  }

  public Parameters parameters() {
    return parameters;
  }

  /** The checkpoint this model was loaded from, if it was. */
  public Optional<Checkpoint> origin() {
    return Optional.ofNullable(origin);
  }

  /** Training steps behind the parameters: the origin's step, or the latest trainer's. */
  public long step() {
    long step = origin == null ? 0 : origin.step();
    for (Trainer t : trainers) {
      step = Math.max(step, t.steps());
    }
    return step;
  }

  // ----------------------------------------------------------------------------------------- training

  /**
   * A trainer of this model's parameters on {@code data}, from step 0 (fresh Adam moments). The model
   * closes it when it closes.
   */
  public Trainer train(ImageSet data, Trainer.Settings settings) {
    return train(data, settings, Trainer.Shard.WHOLE, Trainer.GradientExchange.NONE);
  }

  /**
   * A trainer of one replica of data-parallel training: its {@code shard} of every global batch of
   * {@code settings.batch()}, gradients summed over the replicas by {@code exchange}.
   */
  public Trainer train(ImageSet data, Trainer.Settings settings, Trainer.Shard shard, Trainer.GradientExchange exchange) {
    check();
    Trainer t = new Trainer(parameters, data, settings, name, shard, exchange);
    trainers.add(t);
    return t;
  }

  /**
   * A trainer that continues the training checkpoint this model was loaded from, exactly: Adam's
   * moments, the step and the data position. {@code settings} must have the checkpoint's batch and seed.
   */
  public Trainer resume(ImageSet data, Trainer.Settings settings, Path file) {
    if (origin == null) {
      throw new IllegalStateException("model " + name + " was not loaded from a checkpoint: there is nothing to resume");
    }
    Trainer t = train(data, settings);
    t.resume(origin, file);
    return t;
  }

  // --------------------------------------------------------------------------------------- evaluation

  /** Exact bits/dim of every image of {@code images}, 32 at a time. */
  public Evaluation evaluate(ImageSet images) {
    return evaluate(images, images.size(), 32, null, Progress.NONE);
  }

  /**
   * Exact {@code -log p(x)} of the first {@code limit} images, {@code batch} at a time; every sub-pixel's
   * term in bits goes to {@code sink} (when not null) at its place in the full image, indexed from 0
   * over the images scored. A class-conditional model reads the images' labels.
   */
  public Evaluation evaluate(ImageSet images, int limit, int batch, Scorer.SubpixelSink sink, Progress progress) {
    check();
    ModelSpec m = spec();
    if (limit < 1) {
      throw new IllegalArgumentException("the number of images to score must be at least 1, got " + limit);
    }
    if (batch < 1) {
      throw new IllegalArgumentException("the batch must be at least 1, got " + batch);
    }
    if (images.channels() != m.channels() || images.height() != m.size() || images.width() != m.size()) {
      throw new IllegalArgumentException(images.describe() + " holds " + images.channels() + "×" + images.height() + "×"
          + images.width() + " images but model " + name + " scores " + m.channels() + "×" + m.size() + "×" + m.size());
    }
    boolean labelled = !plan.conditioning().isEmpty();
    if (labelled && !images.hasLabels()) {
      throw new IllegalArgumentException("model " + name + " is class-conditional but " + images.describe() + " has no labels");
    }
    int total = Math.min(limit, images.size());
    batch = Math.min(batch, total);
    double nats = 0;
    try (HostMemory host = HostMemory.create("evaluate")) {
      for (int from = 0; from < total; from += batch) {
        int n = Math.min(batch, total - from);
        PlanRuntime rt = runtime(n);
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
          idx[i] = from + i;
        }
        try (HostTensor x = host.allocate(Shape.nchw(n, m.channels(), m.size(), m.size()), DType.UINT8, "images")) {
          images.gather(idx, x);
          rt.setImages(x);
        }
        if (labelled) {
          try (HostTensor labels = host.allocate(Shape.of(n), DType.INT32, "labels")) {
            images.gatherLabels(idx, labels);
            rt.setConditioning(0, labels);
          }
        }
        int offset = from;
        double[] perImage = new Scorer(rt).nats(sink == null ? null : (image, c, y, x, bits) -> sink.accept(offset + image, c, y, x, bits));
        for (double v : perImage) {
          nats += v;
        }
        progress.update(from + n, total);
      }
    }
    return new Evaluation(total, nats, m.bitsPerDim(nats, total));
  }

  // ----------------------------------------------------------------------------------------- sampling

  /**
   * {@code -log p(x)} in nats of each image {@code [from, to)} of {@code images}, {@code batch} at a time
   * in batches that start at {@code from}: the terms {@link #evaluate} adds up (a batch split that starts
   * at a multiple of the batch scores exactly the batches {@code evaluate} scores, so the same bits).
   */
  public double[] imageNats(ImageSet images, int from, int to, int batch) {
    check();
    ModelSpec m = spec();
    if (from < 0 || to > images.size() || from >= to) {
      throw new IllegalArgumentException("images [" + from + ", " + to + ") are not a non-empty range of " + images.describe());
    }
    if (batch < 1) {
      throw new IllegalArgumentException("the batch must be at least 1, got " + batch);
    }
    if (images.channels() != m.channels() || images.height() != m.size() || images.width() != m.size()) {
      throw new IllegalArgumentException(images.describe() + " holds " + images.channels() + "×" + images.height() + "×"
          + images.width() + " images but model " + name + " scores " + m.channels() + "×" + m.size() + "×" + m.size());
    }
    boolean labelled = !plan.conditioning().isEmpty();
    if (labelled && !images.hasLabels()) {
      throw new IllegalArgumentException("model " + name + " is class-conditional but " + images.describe() + " has no labels");
    }
    double[] out = new double[to - from];
    try (HostMemory host = HostMemory.create("evaluate")) {
      for (int start = from; start < to; start += batch) {
        int n = Math.min(batch, to - start);
        PlanRuntime rt = runtime(n);
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
          idx[i] = start + i;
        }
        try (HostTensor x = host.allocate(Shape.nchw(n, m.channels(), m.size(), m.size()), DType.UINT8, "images")) {
          images.gather(idx, x);
          rt.setImages(x);
        }
        if (labelled) {
          try (HostTensor labels = host.allocate(Shape.of(n), DType.INT32, "labels")) {
            images.gatherLabels(idx, labels);
            rt.setConditioning(0, labels);
          }
        }
        System.arraycopy(new Scorer(rt).nats(), 0, out, start - from, n);
      }
    }
    return out;
  }

  /** {@code count} images from {@code seed}, raster parts cached, in batches that fit the default budget. */
  public Samples sample(int count, long seed, Conditions conditions, HostMemory memory) {
    return sample(count, seed, Sampler.RasterMode.CACHED, conditions, defaultBatch(count), memory, Progress.NONE);
  }

  /**
   * Draws {@code count} images, {@code batch} at a time, from exactly the distribution {@link #evaluate}
   * scores. Image {@code i} is drawn from its own random stream, seeded {@code seed + i}, so it does not
   * depend on the batch size or on the other images: image {@code i} of a run is image 0 of a run from
   * seed {@code seed + i} (what lets a sampling fleet spread images over machines). {@code raster} says how raster parts are sampled (the same
   * draws either way); {@code conditions} gives a conditional model its inputs.
   */
  public Samples sample(int count, long seed, Sampler.RasterMode raster, Conditions conditions, int batch, HostMemory memory, Progress progress) {
    check();
    if (count < 1) {
      throw new IllegalArgumentException("the number of images to draw must be at least 1, got " + count);
    }
    if (batch < 1) {
      throw new IllegalArgumentException("the sampling batch must be at least 1, got " + batch);
    }
    conditions.check(plan, count);
    ModelSpec m = spec();
    long start = System.nanoTime(), evaluations = 0;
    HostTensor out = memory.allocate(Shape.nchw(count, m.channels(), m.size(), m.size()), DType.UINT8, name + ".samples");
    try (HostMemory host = HostMemory.create("sample")) {
      long imageBytes = m.dimensions();
      for (int from = 0; from < count; from += batch) {
        int n = Math.min(batch, count - from);
        PlanRuntime rt = runtime(n);
        conditions.feed(rt, from, n, host);
        long[] seeds = new long[n];
        for (int i = 0; i < n; i++) {
          seeds[i] = seed + from + i;
        }
        try (Sampler sampler = new Sampler(rt, raster); HostTensor drawn = sampler.sample(seeds, host)) {
          out.segment().asSlice(from * imageBytes, n * imageBytes).copyFrom(drawn.segment());
          evaluations += sampler.evaluations();
        }
        progress.update(from + n, count);
      }
    } catch (RuntimeException e) {
      out.close();
      throw e;
    }
    return new Samples(out, evaluations, (System.nanoTime() - start) / 1e9);
  }

  /** The largest batch up to {@code count} whose inference arena stays within {@link #DEFAULT_ARENA_BUDGET}. */
  public int defaultBatch(int count) {
    long perImage = Math.max(1, plan.inferenceArena().bytesPerImage());
    return (int) Math.max(1, Math.min(count, DEFAULT_ARENA_BUDGET / perImage));
  }

  // ------------------------------------------------------------------------------------------- saving

  /** Writes an inference checkpoint (parameters, name, fingerprint, step; no optimiser state) atomically. */
  public void save(Path file) {
    check();
    Checkpoint.inference(name, parameters, Map.of(Checkpoint.STEP, Long.toString(step()))).write(file);
  }

  /** The inference runtime of batch {@code n}, made once and kept until the model closes. */
  PlanRuntime runtime(int n) {
    return runtimes.computeIfAbsent(n, k -> new PlanRuntime(parameters, k, PlanRuntime.Mode.INFERENCE));
  }

  private void check() {
    if (closed) {
      throw new IllegalStateException("model " + name + " is closed");
    }
  }

  /** Closes the trainers and runtimes it made, its parameters and its backend (which reports any leak). */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      trainers.forEach(Trainer::close);
      runtimes.values().forEach(PlanRuntime::close);
      parameters.close();
    } finally {
      backend.close();
    }
  }
}
