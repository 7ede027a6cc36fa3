package dev.mspx.samples;

import dev.mspx.api.AdamOp;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.Model;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.FashionMnist;
import dev.mspx.core.data.ImageSets;
import dev.mspx.core.data.PhotoTiles;
import dev.mspx.core.data.Splits;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx train}: trains a compiled model (by name) and keeps {@code DIR/checkpoint.arrow} current
 * (every {@code --save-every} seconds and at the end); {@code --resume} continues it exactly.
 */
@Command(name = "train", description = "Train a compiled model; writes and keeps current OUT/checkpoint.arrow.")
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

  @Option(names = "--out", required = true, description = "Folder for checkpoint.arrow.")
  Path out;

  @Option(names = "--resume", description = "Continue from OUT/checkpoint.arrow.")
  boolean resume;

  @Option(names = "--save-every", defaultValue = "60", description = "Seconds between checkpoints (default: ${DEFAULT-VALUE}).")
  double saveEvery;

  @Option(names = "--log-every", defaultValue = "10", description = "Steps between progress lines (default: ${DEFAULT-VALUE}).")
  int logEvery;

  @Option(names = "--cache", description = "Where prepared Arrow data files go (default: ~/.cache/mspx).")
  Path cache;

  @Mixin BackendOption backendOption;

  @Mixin SparkOption sparkOption;

  @Override
  public Integer call() {
    Integer onSpark = sparkOption.delegate(spec);
    if (onSpark != null) {
      return onSpark;
    }
    PrintWriter out = spec.commandLine().getOut();
    Path checkpointFile = this.out.resolve("checkpoint.arrow");
    if (!resume && Files.exists(checkpointFile)) {
      throw new IllegalArgumentException(checkpointFile + " exists: pass --resume to continue it, or another --out");
    }
    if (logEvery < 1) {
      throw new IllegalArgumentException("--log-every must be at least 1, got " + logEvery);
    }
    Trainer.Settings settings = new Trainer.Settings(batch, seed, AdamOp.of(lr, 0.9, 0.999, 1e-8), clip);
    try (Model model = resume ? Model.load(checkpointFile, backendOption.module()) : Model.create(config, backendOption.module(), seed)) {
      if (resume && !model.name().equals(config)) {
        throw new IllegalArgumentException(checkpointFile + " is a checkpoint of " + model.name() + ", not " + config
            + ": resume with --config " + model.name() + ", or train " + config + " into another --out");
      }
      ModelSpec m = model.spec();
      Path dataPath = data != null ? data : defaultData(m);
      try (Splits splits = ImageSets.open(dataPath, cache != null ? cache : ImageSets.defaultCacheDir(), m.channels(), m.size())) {
        Trainer trainer = resume ? model.resume(splits.train(), settings, checkpointFile) : model.train(splits.train(), settings);
        if (resume) {
          out.printf(Locale.ROOT, "resumed %s at step %d (epoch %d)%n", checkpointFile, trainer.steps(), trainer.epoch());
        }
        out.printf(Locale.ROOT, "training %s (%,d parameters) on %s, backend %s, batch %d, seed %d%n",
            config, model.plan().parameterCount(), splits.train().describe(), model.backend().name(), batch, seed);
        out.flush();
        long start = System.nanoTime(), lastSave = start;
        long deadline = budget.minutes != null ? start + (long) (budget.minutes * 60e9) : Long.MAX_VALUE;
        long target = budget.steps != null ? budget.steps : Long.MAX_VALUE;
        double recent = 0;
        int inWindow = 0;
        while (trainer.steps() < target && System.nanoTime() < deadline) {
          recent += trainer.step();
          inWindow++;
          if (trainer.steps() % logEvery == 0) {
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "step %d  loss %.4f bits/dim  %.1f s%n", trainer.steps(), recent / inWindow, seconds);
            out.flush();
            recent = 0;
            inWindow = 0;
          }
          if ((System.nanoTime() - lastSave) / 1e9 >= saveEvery) {
            trainer.checkpoint().write(checkpointFile);
            lastSave = System.nanoTime();
          }
        }
        trainer.checkpoint().write(checkpointFile);
        out.printf(Locale.ROOT, "trained to step %d in %.1f s; checkpoint %s%n", trainer.steps(), (System.nanoTime() - start) / 1e9, checkpointFile);
      }
    }
    return 0;
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
}
