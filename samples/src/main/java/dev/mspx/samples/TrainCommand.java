package dev.mspx.samples;

import dev.mspx.api.AdamOp;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Model;
import dev.mspx.core.ModelCatalog;
import dev.mspx.core.Progress;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.FashionMnist;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import dev.mspx.core.data.PhotoTiles;
import dev.mspx.core.data.Splits;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx train}: trains a compiled model (by name) into a run folder, {@code OUT}:
 * {@code checkpoint.arrow} (kept current every {@code --save-every} seconds, at the end, and when the
 * run is stopped with Ctrl-C or a TERM signal), {@code log.csv} and {@code log.png} (training and
 * held-out test bits/dim against the step). The folder is checked and locked before any work; a
 * second run on it is refused while the first is alive. {@code --resume} continues a run exactly.
 */
@Command(name = "train", description = {
    "Train a compiled model into a run folder: OUT/checkpoint.arrow, OUT/log.csv, OUT/log.png.",
    "Ctrl-C saves the checkpoint and prints the command that continues the run."})
final class TrainCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--config", required = true, description = "A compiled model by name: ${COMPLETION-CANDIDATES} (mspx describe --list shows all).",
      completionCandidates = DescribeCommand.ModelNames.class)
  String config;

  @Option(names = "--data", description = "Data folder or prepared .arrow file (default: Fashion-MNIST's or the photos' Debian folder).")
  Path data;

  static final class Budget {
    @Option(names = "--minutes", description = "Train for this many minutes of wall time.")
    Double minutes;

    @Option(names = "--steps", description = "Train until this many steps in all (counting resumed ones).")
    Long steps;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Budget budget;

  @Option(names = "--batch", defaultValue = "32", description = "Batch size (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial weights and the data order (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--clip", defaultValue = "0", description = "Clip the global gradient norm to this; 0: off (default).")
  double clip;

  @Option(names = "--out", required = true, description = "The run folder: checkpoint.arrow, log.csv and log.png go there.")
  Path out;

  @Option(names = "--resume", description = "Continue the run in OUT from its checkpoint.arrow (same --batch and --seed).")
  boolean resume;

  @Option(names = "--crop", description = "Train a multiscale model on CROP×CROP crops (photo tiles of that size): its plan at the crop size,"
      + " the same networks; used at full size stage by stage from the top (mspx upscale, mspx sample --size).")
  Integer crop;

  @Option(names = "--save-every", defaultValue = "60", description = "Seconds between checkpoints (default: ${DEFAULT-VALUE}).")
  double saveEvery;

  @Option(names = "--log-every", defaultValue = "10", description = "Steps between progress lines and log.csv rows (default: ${DEFAULT-VALUE}).")
  int logEvery;

  @Option(names = "--eval-every", defaultValue = "500", description = "Steps between test bits/dim on a held-out slice; 0: only at the end (default: ${DEFAULT-VALUE}).")
  int evalEvery;

  @Option(names = "--eval-images", defaultValue = "500", description = "Images of the test split in that slice (default: ${DEFAULT-VALUE}).")
  int evalImages;

  @Option(names = "--cache", description = "Where prepared Arrow data files go (default: ~/.cache/mspx).")
  Path cache;

  @Mixin BackendOption backendOption;

  @Mixin SparkOption sparkOption;

  /** Told the step after each one; tests use it to act at an exact step (e.g. run the Ctrl-C hook there). */
  LongConsumer afterStep = step -> {};

  /** The shutdown hook's part: set by a signal, seen by the training loop after its current step. */
  final StopSignal stop = new StopSignal();

  @Override
  public Integer call() throws IOException {
    Integer onSpark = sparkOption.delegate(spec);
    if (onSpark != null) {
      return onSpark;
    }
    PrintWriter out = spec.commandLine().getOut();
    validate();
    RunFolder.check(this.out, resume);
    Path checkpointFile = this.out.resolve("checkpoint.arrow");
    BackendModule module = backendOption.module();
    Trainer.Settings settings = new Trainer.Settings(batch, seed, AdamOp.of(lr, 0.9, 0.999, 1e-8), clip);
    try (Model model = resume ? ModelFiles.load(checkpointFile, module) : Model.create(plan(), module, seed)) {
      if (resume && !model.name().equals(config)) {
        throw new IllegalArgumentException(checkpointFile + " is a checkpoint of " + model.name() + ", not " + config
            + ": resume with --config " + model.name() + ", or train " + config + " into another --out");
      }
      if (resume && ModelFiles.crop(model.origin().orElseThrow()) != (crop == null ? 0 : crop)) {
        int had = ModelFiles.crop(model.origin().orElseThrow());
        throw new IllegalArgumentException(checkpointFile + " was trained " + (had == 0 ? "on whole images" : "with --crop " + had)
            + ": resume it with " + (had == 0 ? "no --crop" : "--crop " + had));
      }
      Arenas.check(model.plan().arena().bytes(batch), "--batch " + batch, "train");
      ModelSpec m = model.spec();
      Path dataPath = data != null ? data : defaultData(m);
      Thread hook = null;
      try {
        try (Splits splits = ImageSets.open(dataPath, cache != null ? cache : ImageSets.defaultCacheDir(), m.channels(), m.size());
            RunFolder folder = RunFolder.claim(this.out, out)) {
          Trainer trainer = resume ? model.resume(splits.train(), settings, checkpointFile) : model.train(splits.train(), settings);
          hook = new Thread(stop::onSignal, "mspx-train-save-on-exit");
          Runtime.getRuntime().addShutdownHook(hook);
          return run(model, trainer, splits, checkpointFile, out);
        }
      } finally {
        // After the folder's lock is released: the hook lets the JVM exit only then.
        stop.finished();
        if (hook != null) {
          try {
            Runtime.getRuntime().removeShutdownHook(hook);
          } catch (IllegalStateException shuttingDown) {
            // the hook is running: it returns now that the run has finished
          }
        }
      }
    }
  }

  private int run(Model model, Trainer trainer, Splits splits, Path checkpointFile, PrintWriter out) throws IOException {
    ModelSpec m = model.spec();
    long startStep = trainer.steps();
    if (resume) {
      out.printf(Locale.ROOT, "resumed %s at step %d (epoch %d)%n", checkpointFile, startStep, trainer.epoch());
    }
    out.printf(Locale.ROOT, "training %s%s (%,d parameters) on %s, backend %s, batch %d, seed %d%n",
        config, crop != null ? " on " + crop + "×" + crop + " crops" : "", model.plan().parameterCount(), splits.train().describe(),
        model.backend().name(), batch, seed);
    out.flush();
    TrainingLog log = TrainingLog.open(this.out, config + (crop != null ? " (" + crop + "×" + crop + " crops)" : ""), startStep);
    Map<String, String> facts = facts(splits.train());
    ImageSet heldOut = splits.test();
    int evalCount = Math.min(evalImages, heldOut.size());
    long start = System.nanoTime(), lastSave = start;
    double before = log.secondsSoFar();
    long deadline = budget.minutes != null ? start + (long) (budget.minutes * 60e9) : Long.MAX_VALUE;
    long target = budget.steps != null ? budget.steps : Long.MAX_VALUE;
    ProgressDisplay progress = ProgressDisplay.of("step", "steps", startStep, budget.steps != null ? target : startStep + 1, logEvery, out,
        ProgressDisplay.terminal(System.out)).rate(batch, "img");
    double recent = 0;
    int inWindow = 0;
    long windowStart = start;
    double lastTest = Double.NaN;
    try (progress) {
      while (trainer.steps() < target && System.nanoTime() < deadline && !stop.requested()) {
        recent += trainer.step();
        inWindow++;
        long step = trainer.steps();
        long now = System.nanoTime();
        if (budget.minutes != null) {
          // The steps that fit the time left at the rate so far: the bar's total and ETA.
          double perStep = (now - start) / 1e9 / (step - startStep);
          progress.total(step + Math.max(1, (long) ((deadline - now) / 1e9 / perStep)));
        }
        if (step % logEvery == 0) {
          double mean = recent / inWindow;
          double imagesPerSecond = inWindow * (double) batch / ((now - windowStart) / 1e9);
          log.add(new TrainingLog.Row(step, before + (now - start) / 1e9, imagesPerSecond, mean, Double.NaN, 0));
          progress.message(String.format(Locale.ROOT, "%.4f bits/dim", mean) + (Double.isNaN(lastTest) ? "" : String.format(Locale.ROOT, " (test %.4f)", lastTest)));
          recent = 0;
          inWindow = 0;
          windowStart = now;
        }
        progress.update(step, budget.steps != null ? target : progress.total());
        if (evalEvery > 0 && step % evalEvery == 0) {
          lastTest = heldOut(model, heldOut, evalCount, log, step, before + (System.nanoTime() - start) / 1e9);
          facts.putAll(testFacts(lastTest, evalCount, step));
        }
        if ((System.nanoTime() - lastSave) / 1e9 >= saveEvery) {
          facts.put(CheckpointFacts.TRAINING_SECONDS, String.format(Locale.ROOT, "%.0f", before + (System.nanoTime() - start) / 1e9));
          save(trainer, checkpointFile, facts);
          log.plot();
          lastSave = System.nanoTime();
        }
        afterStep.accept(step);
      }
    }
    long steps = trainer.steps();
    if (steps == startStep) {
      out.println(stop.requested() ? "stopped before the first step: nothing to save" : "nothing to do: the checkpoint is at step " + steps);
      return 0;
    }
    if (!stop.requested() && (evalEvery == 0 || steps % evalEvery != 0)) {
      lastTest = heldOut(model, heldOut, evalCount, log, steps, before + (System.nanoTime() - start) / 1e9);
      facts.putAll(testFacts(lastTest, evalCount, steps));
    }
    facts.put(CheckpointFacts.TRAINING_SECONDS, String.format(Locale.ROOT, "%.0f", before + (System.nanoTime() - start) / 1e9));
    save(trainer, checkpointFile, facts);
    log.plot();
    double seconds = (System.nanoTime() - start) / 1e9;
    if (stop.requested()) {
      out.printf(Locale.ROOT, "stopped at step %d after %.1f s; saved %s%n", steps, seconds, checkpointFile);
      out.println("continue with: " + resumeCommand());
    } else {
      out.printf(Locale.ROOT, "trained to step %d in %.1f s; checkpoint %s%s%n", steps, seconds, checkpointFile,
          Double.isNaN(lastTest) ? "" : String.format(Locale.ROOT, "; test %.4f bits/dim on %d held-out images", lastTest, evalCount));
      out.println("curve: " + this.out.resolve("log.csv") + ", " + this.out.resolve("log.png"));
    }
    out.flush();
    return 0;
  }

  /** Test bits/dim of the first {@code count} test images, logged as a row. */
  private static double heldOut(Model model, ImageSet test, int count, TrainingLog log, long step, double seconds) throws IOException {
    Model.Evaluation e = model.evaluate(test, count, Math.min(64, model.defaultBatch(count)), null, Progress.NONE);
    log.add(new TrainingLog.Row(step, seconds, Double.NaN, Double.NaN, e.bitsPerDim(), e.images()));
    return e.bitsPerDim();
  }

  private static Map<String, String> testFacts(double bitsPerDim, int images, long step) {
    return Map.of(CheckpointFacts.TEST_BITS_PER_DIM, String.format(Locale.ROOT, "%.5f", bitsPerDim),
        CheckpointFacts.TEST_IMAGES, Integer.toString(images), CheckpointFacts.TEST_STEP, Long.toString(step));
  }

  /** What the checkpoint records besides the trainer's own entries: the data, the crop, class names. */
  private Map<String, String> facts(ImageSet train) {
    Map<String, String> facts = new HashMap<>();
    facts.put(CheckpointFacts.DATA, train.describe());
    if (crop != null) {
      facts.put(ModelFiles.CROP, Integer.toString(crop));
    }
    if (train.hasLabels() && train.source().startsWith("Fashion-MNIST")) {
      facts.put(CheckpointFacts.CLASS_NAMES, String.join(",", CheckpointFacts.FASHION_CLASSES));
    }
    return facts;
  }

  private static void save(Trainer trainer, Path file, Map<String, String> facts) {
    Checkpoint cp = trainer.checkpoint();
    Map<String, String> meta = new HashMap<>(cp.metadata());
    meta.putAll(facts);
    new Checkpoint(meta, cp.tensors()).write(file);
  }

  /** The command that continues this run where it stopped. */
  String resumeCommand() {
    List<String> args = new ArrayList<>(List.of("./mspx", "train", "--config", config, "--out", quote(out.toString()), "--resume"));
    if (budget.steps != null) {
      args.addAll(List.of("--steps", Long.toString(budget.steps)));
    } else {
      args.addAll(List.of("--minutes", "M"));
    }
    if (data != null) {
      args.addAll(List.of("--data", quote(data.toString())));
    }
    if (crop != null) {
      args.addAll(List.of("--crop", Integer.toString(crop)));
    }
    if (batch != 32) {
      args.addAll(List.of("--batch", Integer.toString(batch)));
    }
    if (seed != 0) {
      args.addAll(List.of("--seed", Long.toString(seed)));
    }
    if (lr != 1e-3) {
      args.addAll(List.of("--lr", Double.toString(lr)));
    }
    if (clip != 0) {
      args.addAll(List.of("--clip", Double.toString(clip)));
    }
    return String.join(" ", args) + (budget.minutes != null ? "   (M: the minutes to add)" : "");
  }

  private static String quote(String s) {
    return s.matches("[A-Za-z0-9_./:=+-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
  }

  /** Every option value that cannot be right, refused before anything is read or written. */
  private void validate() {
    if (budget.steps != null) {
      UsageException.atLeast("--steps", budget.steps, 1);
    }
    if (budget.minutes != null) {
      UsageException.positive("--minutes", budget.minutes);
    }
    UsageException.atLeast("--batch", batch, 1);
    UsageException.positive("--lr", lr);
    UsageException.notNegative("--clip", clip);
    UsageException.positive("--save-every", saveEvery);
    UsageException.atLeast("--log-every", logEvery, 1);
    UsageException.atLeast("--eval-every", evalEvery, 0);
    UsageException.atLeast("--eval-images", evalImages, 1);
    if (crop != null) {
      UsageException.atLeast("--crop", crop, 1);
    }
  }

  /** The plan to train: the model's, or its plan at the crop size. */
  private ExecutionPlan plan() {
    ExecutionPlan declared = ModelCatalog.load().plan(config);
    if (crop == null) {
      return declared;
    }
    ModelSpec s = declared.spec();
    if (crop >= s.size()) {
      throw new UsageException("--crop " + crop + " is not smaller than model " + config + "'s " + s.size() + "×" + s.size() + " images: leave --crop out");
    }
    try {
      return ModelFiles.atSize(s, crop);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--crop " + crop + ": " + e.getMessage());
    }
  }

  /** Fashion-MNIST's Debian folder for grey 28×28 models, the photos' for colour ones; else --data is needed. */
  static Path defaultData(ModelSpec m) {
    if (m.channels() == 3) {
      return PhotoTiles.DEFAULT_DIR;
    }
    if (m.channels() == 1 && m.size() == 28) {
      return FashionMnist.DEFAULT_DIR;
    }
    throw new IllegalArgumentException("model " + m.catalogName() + " takes " + m.channels() + "×" + m.size() + "×" + m.size()
        + " images, which no default data set has: give --data (a folder of PNGs, or a prepared NAME-train.arrow)");
  }

  /**
   * What a shutdown hook and the training loop share. The hook runs on its own thread when the JVM
   * is asked to stop (Ctrl-C, a TERM signal): it asks the loop to stop and waits until the loop has
   * finished its step, saved the checkpoint (atomically, as every save) and printed how to continue.
   * The JVM exits only when the hook returns.
   */
  static final class StopSignal {
    /** How long the hook waits for the step in progress and the save. */
    static final long WAIT_MILLIS = 10 * 60_000;

    private volatile boolean requested;
    private final java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);

    /** The hook's body. */
    void onSignal() {
      requested = true;
      try {
        if (!done.await(WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
          System.err.println("mspx: gave up waiting for the training step to finish; the last periodic checkpoint is kept");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    boolean requested() {
      return requested;
    }

    /** The run has saved and released its folder (or failed): the hook may let the JVM exit. */
    void finished() {
      done.countDown();
    }

    /** Whether the run has finished. */
    boolean isFinished() {
      return done.getCount() == 0;
    }
  }
}
