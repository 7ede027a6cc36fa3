package dev.mspx.spark;

import dev.mspx.api.AdamOp;
import dev.mspx.backend.cpu.CpuVectorBackend;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.ArrowImageFile;
import dev.mspx.core.data.ImageSet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.SparkFiles;
import org.apache.spark.TaskContext;

/** What every kind of task does first: its backend, its data, its model. */
final class Replicas {

  private Replicas() {}

  /**
   * The backend of a task: {@code cpu} as the vector kernels on {@code threads} threads (0: the task's
   * {@code spark.task.cpus}, so that the replicas of one executor share its cores instead of each
   * taking all of them); {@code cudnn} and {@code auto} as {@code mspx --backend} chooses.
   */
  static BackendModule backend(String name, int threads, String label) {
    int n = threads > 0 ? threads : taskCpus();
    if (name.equals("cpu")) {
      return BackendModule.of("cpu", () -> new CpuVectorBackend(label, n));
    }
    BackendModule chosen = BackendModule.select(name);
    if (chosen.backendName().equals("cpu")) {
      return BackendModule.of("cpu", () -> new CpuVectorBackend(label, n));
    }
    return chosen;
  }

  private static int taskCpus() {
    TaskContext context = TaskContext.get();
    return context == null ? Runtime.getRuntime().availableProcessors() : Math.max(1, context.cpus());
  }

  /** The task's copy of the data: a shipped file from {@link SparkFiles}, or the path itself. */
  static ImageSet open(String data, boolean shipped) {
    return ArrowImageFile.open(shipped ? Path.of(SparkFiles.get(data)) : Path.of(data));
  }

  /** Writes checkpoint bytes to a temporary file of this task, for {@link Model#load}. */
  static Path localCopy(byte[] checkpoint, String prefix) {
    try {
      Path file = Files.createTempFile(prefix, ".arrow");
      file.toFile().deleteOnExit();
      Files.write(file, checkpoint);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a local copy of the checkpoint: " + e.getMessage(), e);
    }
  }

  static Trainer.Settings settings(TrainJob job) {
    return new Trainer.Settings(job.batch(), job.seed(), AdamOp.of(job.learningRate(), 0.9, 0.999, 1e-8), job.clip());
  }

  /** The model a replica starts from: the checkpoint's (written by the driver), or a fresh one from the seed. */
  static Model model(TrainJob job, Path checkpoint, BackendModule backend) {
    return checkpoint == null ? Model.create(job.config(), backend, job.seed()) : Model.load(checkpoint, backend);
  }

  /** A replica's trainer, resumed from the checkpoint when there is one. */
  static Trainer trainer(Model model, ImageSet data, TrainJob job, Path checkpoint, Trainer.Shard shard, Trainer.GradientExchange exchange) {
    if (!model.name().equals(job.config())) {
      throw new IllegalArgumentException(checkpoint + " is a checkpoint of " + model.name() + ", not " + job.config()
          + ": resume with --config " + model.name() + ", or train " + job.config() + " into another --out");
    }
    Trainer trainer = model.train(data, settings(job), shard, exchange);
    if (checkpoint != null) {
      trainer.resume(model.origin().orElseThrow(), checkpoint);
    }
    return trainer;
  }
}
