package dev.mspx.spark;

import java.io.Serializable;

/**
 * Everything a replica needs to know about a distributed training run; it travels to the executors
 * with the job. Built by {@link SparkMain}'s {@code train} from the same options as {@code mspx train}.
 *
 * @param config the compiled model's catalog name (its jar must be on the executors' class path)
 * @param data the prepared training Arrow file, as the executors see it: a path (local mode, or a file
 *     system every executor mounts), or the name of a file shipped with {@code SparkContext.addFile}
 * @param shipped whether {@code data} names a shipped file ({@code SparkFiles.get}) rather than a path
 * @param batch the global batch, split evenly over the replicas
 * @param steps train until this many steps in all (counting resumed ones); {@code Long.MAX_VALUE}: no limit
 * @param deadlineMillis stop at this wall-clock time (epoch milliseconds); {@code Long.MAX_VALUE}: none
 * @param saveEverySeconds rank 0 sends a checkpoint to the driver this often
 * @param saveEverySteps ... and every this many steps (0: by time only)
 * @param logEvery steps between progress lines
 * @param replicas the number of replicas (barrier tasks)
 * @param collective {@code ring}, {@code aggregate} or {@code nccl}
 * @param backend {@code cpu}, {@code cudnn} or {@code auto}, chosen on each executor
 * @param threads kernel threads per CPU replica; 0: the task's {@code spark.task.cpus}
 * @param maxAttempts how many times the driver starts the stage before giving up
 * @param timeoutMillis how long a replica waits for a peer in one exchange
 * @param treeDepth {@code treeAggregate}'s depth for the aggregate collective
 */
public record TrainJob(
    String config,
    String data,
    boolean shipped,
    int batch,
    long seed,
    double learningRate,
    double clip,
    long steps,
    long deadlineMillis,
    double saveEverySeconds,
    long saveEverySteps,
    int logEvery,
    int replicas,
    String collective,
    String backend,
    int threads,
    int maxAttempts,
    long timeoutMillis,
    int treeDepth)
    implements Serializable {

  public TrainJob {
    if (replicas < 1) {
      throw new IllegalArgumentException("--replicas must be at least 1, got " + replicas);
    }
    if (batch < 1 || batch % replicas != 0) {
      throw new IllegalArgumentException("--batch " + batch + " does not split evenly over " + replicas
          + " replicas: give a global batch that is a multiple of --replicas");
    }
    if (!collective.equals("ring") && !collective.equals("aggregate") && !collective.equals("nccl")) {
      throw new IllegalArgumentException("--collective " + collective + ": give ring, aggregate or nccl (or auto)");
    }
    if (logEvery < 1) {
      throw new IllegalArgumentException("--log-every must be at least 1, got " + logEvery);
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("--max-attempts must be at least 1, got " + maxAttempts);
    }
    if (saveEverySteps < 0) {
      throw new IllegalArgumentException("--save-every-steps must be 0 (off) or more, got " + saveEverySteps);
    }
    if (threads < 0) {
      throw new IllegalArgumentException("--threads must be 0 (the task's cores) or more, got " + threads);
    }
  }

  /** A job of DESIGN.md's defaults for tests and programs: Adam at 1e-3, no clipping, ring, CPU. */
  public static TrainJob of(String config, String data, int batch, long seed, long steps, int replicas) {
    return new TrainJob(config, data, false, batch, seed, 1e-3, 0, steps, Long.MAX_VALUE, 60, 0, 10, replicas, "ring", "cpu", 0, 3, 600_000, 2);
  }

  public TrainJob withCollective(String collective) {
    return new TrainJob(config, data, shipped, batch, seed, learningRate, clip, steps, deadlineMillis, saveEverySeconds, saveEverySteps, logEvery,
        replicas, collective, backend, threads, maxAttempts, timeoutMillis, treeDepth);
  }

  public TrainJob withSaveEverySteps(long every) {
    return new TrainJob(config, data, shipped, batch, seed, learningRate, clip, steps, deadlineMillis, saveEverySeconds, every, logEvery,
        replicas, collective, backend, threads, maxAttempts, timeoutMillis, treeDepth);
  }

  public TrainJob withSteps(long total) {
    return new TrainJob(config, data, shipped, batch, seed, learningRate, clip, total, deadlineMillis, saveEverySeconds, saveEverySteps, logEvery,
        replicas, collective, backend, threads, maxAttempts, timeoutMillis, treeDepth);
  }

  public TrainJob withThreads(int perReplica) {
    return new TrainJob(config, data, shipped, batch, seed, learningRate, clip, steps, deadlineMillis, saveEverySeconds, saveEverySteps, logEvery,
        replicas, collective, backend, perReplica, maxAttempts, timeoutMillis, treeDepth);
  }
}
