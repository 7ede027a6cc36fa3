package dev.mspx.spark;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.Model;
import dev.mspx.core.data.ImageSet;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Exact bits/dim of a checkpoint over a dataset spread across the executors: each task scores a range
 * of images ({@code -log p(x)} per image, {@link Model#imageNats}) and the driver adds the terms in
 * image order. The ranges start on multiples of the batch, so every task scores exactly the batches a
 * single process ({@code mspx eval}) scores and the sum is taken in its order: the same double, bit
 * for bit, and so the same printed digits.
 */
public final class DistributedEvaluation {

  /** A range of images one task scores. */
  record Range(int from, int to) implements Serializable {}

  private final JavaSparkContext spark;

  public DistributedEvaluation(JavaSparkContext spark) {
    this.spark = spark;
  }

  /**
   * Scores the first {@code limit} images of {@code data} (the path, or the shipped file's name, as
   * the executors see it; {@code driverData} as the driver sees it) in {@code partitions} tasks.
   */
  public Model.Evaluation evaluate(Path checkpoint, String data, boolean shipped, Path driverData, int limit, int batch, int partitions,
      String backend, int threads) {
    if (batch < 1) {
      throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
    }
    if (partitions < 1) {
      throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
    }
    int total;
    ModelSpec spec;
    try (ImageSet set = dev.mspx.core.data.ArrowImageFile.open(driverData)) {
      total = Math.min(limit, set.size());
    }
    if (total < 1) {
      throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
    }
    // Opened here first: a checkpoint of an unknown model is refused before any task starts.
    try (Model model = Model.load(checkpoint, Replicas.backend("cpu", 1, "driver"))) {
      spec = model.spec();
    }
    byte[] bytes = read(checkpoint);
    Broadcast<byte[]> state = spark.broadcast(bytes);
    try {
      int batches = (total + batch - 1) / batch;
      int parts = Math.min(partitions, batches);
      List<Range> ranges = new ArrayList<>();
      for (int p = 0; p < parts; p++) {
        int first = (int) ((long) batches * p / parts) * batch;
        int last = (int) Math.min(total, (long) batches * (p + 1) / parts * batch);
        ranges.add(new Range(first, last));
      }
      spark.setJobDescription("mspx eval " + checkpoint.getFileName() + ": " + total + " images in " + parts + " tasks");
      List<double[]> terms = spark.parallelize(ranges, parts)
          .map(r -> score(state.value(), data, shipped, r, batch, backend, threads))
          .collect();
      double nats = 0;
      for (double[] part : terms) {
        for (double v : part) {
          nats += v;
        }
      }
      return new Model.Evaluation(total, nats, spec.bitsPerDim(nats, total));
    } finally {
      state.destroy();
    }
  }

  private static double[] score(byte[] checkpoint, String data, boolean shipped, Range range, int batch, String backend, int threads) {
    Path local = Replicas.localCopy(checkpoint, "mspx-eval-");
    try (ImageSet set = Replicas.open(data, shipped);
        Model model = Model.load(local, Replicas.backend(backend, threads, "eval-" + range.from()))) {
      return model.imageNats(set, range.from(), range.to(), batch);
    } finally {
      local.toFile().delete();
    }
  }

  static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
    }
  }
}
