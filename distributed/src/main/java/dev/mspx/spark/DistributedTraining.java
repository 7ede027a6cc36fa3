package dev.mspx.spark;

import dev.mspx.core.BackendModule;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Model;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.ImageSet;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import scala.Function1;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;

/**
 * The driver of synchronous data-parallel training on Spark.
 *
 * <p>{@code ring} and {@code nccl}: one barrier stage of {@code replicas} tasks (gang-scheduled: all
 * start or none), each running the single-process training loop on its shard with the gradients summed
 * between the tasks ({@link BarrierReplica}). Rank 0 streams progress and checkpoints to the driver,
 * which writes {@code OUT/checkpoint.arrow} atomically. A task that fails fails the stage (Spark does
 * not retry a barrier result stage); the driver then starts the stage again from the last checkpoint it
 * wrote, up to {@code maxAttempts} times. Resumed replicas take the same steps as an uninterrupted run
 * (the checkpoint holds Adam's moments and the data position), so the final parameters are the same.
 *
 * <p>{@code aggregate}: the driver holds the model and Adam; each step is one Spark job whose tasks
 * compute their shards' gradients for the broadcast parameters ({@link AggregateReplica}), summed by
 * {@code treeAggregate}. The driver writes checkpoints itself; a failed step's job is run again from
 * the driver's state, which that step had not changed.
 */
public final class DistributedTraining {

  /** The outcome: the last step, the replicas' reports of the last attempt, and how many attempts it took. */
  public record Result(long steps, int attempts, List<ReplicaReport> reports, double seconds) {}

  private final JavaSparkContext spark;
  private final PrintWriter out;
  private ReplicaHook hook = ReplicaHook.NONE;

  public DistributedTraining(JavaSparkContext spark, PrintWriter out) {
    this.spark = spark;
    this.out = out;
  }

  /** A hook run in every replica in the middle of every step (see {@link ReplicaHook}). */
  public DistributedTraining hook(ReplicaHook hook) {
    this.hook = hook;
    return this;
  }

  /**
   * Trains {@code job} into {@code checkpointFile}, from the checkpoint already there when {@code resume},
   * else from a fresh model of the job's seed.
   */
  public Result train(TrainJob job, Path checkpointFile, boolean resume) {
    if (resume && !Files.isRegularFile(checkpointFile)) {
      throw new IllegalArgumentException("--resume: there is no " + checkpointFile + " to continue");
    }
    if (!resume && Files.exists(checkpointFile)) {
      throw new IllegalArgumentException(checkpointFile + " exists: pass --resume to continue it, or another --out");
    }
    int slots = spark.sc().maxNumConcurrentTasks(spark.sc().resourceProfileManager().defaultResourceProfile());
    if (job.replicas() > slots && !job.collective().equals("aggregate")) {
      throw new IllegalArgumentException(job.replicas() + " replicas need " + job.replicas() + " task slots at once (a barrier stage starts"
          + " all its tasks together) but the cluster has " + slots + ": give --replicas " + slots + " or fewer, or more executor cores");
    }
    long start = System.nanoTime();
    return job.collective().equals("aggregate") ? aggregate(job, checkpointFile, resume, start) : barrier(job, checkpointFile, resume, start);
  }

  // ------------------------------------------------------------------------------- barrier stages

  private Result barrier(TrainJob job, Path checkpointFile, boolean resume, long start) {
    String host = spark.getConf().get("spark.driver.host", "127.0.0.1");
    byte[] state = resume ? readAll(checkpointFile) : null;
    for (int attempt = 0; ; attempt++) {
      try (DriverChannel channel = new DriverChannel(host, checkpointFile, out)) {
        Broadcast<byte[]> broadcast = state == null ? null : spark.broadcast(state);
        try {
          List<ReplicaReport> reports = runStage(job, attempt, broadcast, channel.address(), hook);
          long last = channel.awaitFinished(60_000);
          return new Result(last, attempt + 1, reports, (System.nanoTime() - start) / 1e9);
        } catch (Exception e) { // Spark's SparkException is checked in Java's eyes, unchecked in Scala's
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for rank 0", e);
          }
          if (!isStageFailure(e) || attempt + 1 >= job.maxAttempts()) {
            throw sneaky(e);
          }
          try {
            channel.closeAndWait();
          } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the driver finished writing a checkpoint", interrupted);
          }
          long saved = channel.lastCheckpointStep();
          if (saved >= 0 || (state != null)) {
            state = readAll(checkpointFile);
          }
          out.printf(Locale.ROOT, "the training stage failed (attempt %d of %d): %s%nresuming from %s%n", attempt + 1, job.maxAttempts(),
              rootMessage(e), state == null ? "the start (no checkpoint yet)" : checkpointFile + " at step " + Checkpoint.read(checkpointFile).step());
          out.flush();
        } finally {
          if (broadcast != null) {
            broadcast.destroy();
          }
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private List<ReplicaReport> runStage(TrainJob job, int attempt, Broadcast<byte[]> state, String driver, ReplicaHook hook) {
    JavaRDD<Integer> ranks = spark.parallelize(IntStream.range(0, job.replicas()).boxed().toList(), job.replicas());
    Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<ReplicaReport>> body =
        (Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<ReplicaReport>> & java.io.Serializable)
            partition -> CollectionConverters.asScala(
                BarrierReplica.one(BarrierReplica.run(job, attempt, state == null ? null : state.value(), driver, hook)).iterator());
    RDD<ReplicaReport> stage = ranks.rdd().barrier().mapPartitions(body, false, ClassTag$.MODULE$.apply(ReplicaReport.class));
    spark.setJobDescription("mspx train " + job.config() + ": " + job.replicas() + " replicas, " + job.collective() + ", attempt " + (attempt + 1));
    return new ArrayList<>(stage.toJavaRDD().collect());
  }

  /** Whether {@code e} is Spark failing a job (a task failed, was killed, or the stage was aborted). */
  static boolean isStageFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof org.apache.spark.SparkException) {
        return true;
      }
    }
    return false;
  }

  /** Rethrows {@code e} as it is (a Spark job's checked SparkException included). */
  @SuppressWarnings("unchecked")
  static <E extends Throwable> RuntimeException sneaky(Throwable e) throws E {
    throw (E) e;
  }

  static String rootMessage(Throwable e) {
    String m = e.getMessage();
    if (m == null) {
      return e.toString();
    }
    int newline = m.indexOf('\n');
    return newline < 0 ? m : m.substring(0, newline);
  }

  private static byte[] readAll(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------------ aggregate (MLlib's)

  private Result aggregate(TrainJob job, Path checkpointFile, boolean resume, long start) {
    String run = UUID.randomUUID().toString();
    BackendModule backend = Replicas.backend(job.backend(), job.threads() > 0 ? job.threads() : 1, "driver");
    try (ImageSet data = Replicas.open(job.data(), false);
        Model model = resume ? Model.load(checkpointFile, backend) : Model.create(job.config(), backend, job.seed())) {
      // The driver's trainer is replica 0's shape; it never computes gradients, it applies the sums.
      Trainer trainer = Replicas.trainer(model, data, job, resume ? checkpointFile : null, new Trainer.Shard(0, job.replicas()), Trainer.GradientExchange.NONE);
      long first = trainer.steps();
      double exchanging = 0;
      long sent = 0, lastSave = System.nanoTime();
      double recent = 0;
      int inWindow = 0, attempts = 1;
      try (GradientBuffer buffer = new GradientBuffer(model.backend(), trainer.gradientTensors())) {
        var specs = model.plan().parameters();
        while (trainer.steps() < job.steps() && System.currentTimeMillis() < job.deadlineMillis()) {
          float[][] parameters = new float[specs.size()][];
          for (int i = 0; i < parameters.length; i++) {
            parameters[i] = model.parameters().read(specs.get(i).name());
          }
          long exchangeStart = System.nanoTime();
          float[] sum = null;
          for (int attempt = 0; sum == null; attempt++) {
            try {
              sum = aggregateStep(run, job, parameters, trainer.epoch(), trainer.batchInEpoch(), attempt, trainer.steps() + 1);
            } catch (Exception e) {
              if (!isStageFailure(e) || attempt + 1 >= job.maxAttempts()) {
                throw sneaky(e);
              }
              attempts++;
              out.printf(Locale.ROOT, "step %d failed (attempt %d of %d): %s%nrunning it again%n", trainer.steps() + 1, attempt + 1, job.maxAttempts(), rootMessage(e));
              out.flush();
            }
          }
          exchanging += (System.nanoTime() - exchangeStart) / 1e9;
          sent += 4L * sum.length * job.replicas();
          System.arraycopy(sum, 0, buffer.flat(), 0, buffer.gradients());
          buffer.write();
          recent += trainer.applyUpdate(sum[buffer.nats()]);
          inWindow++;
          if (trainer.steps() % job.logEvery() == 0) {
            out.printf(Locale.ROOT, "step %d  loss %.4f bits/dim  %.1f s%n", trainer.steps(), recent / inWindow, (System.nanoTime() - start) / 1e9);
            out.flush();
            recent = 0;
            inWindow = 0;
          }
          boolean due = (System.nanoTime() - lastSave) / 1e9 >= job.saveEverySeconds()
              || (job.saveEverySteps() > 0 && trainer.steps() % job.saveEverySteps() == 0);
          if (due) {
            trainer.checkpoint().write(checkpointFile);
            lastSave = System.nanoTime();
          }
        }
        trainer.checkpoint().write(checkpointFile);
      } finally {
        release(run, job.replicas());
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      ReplicaReport driver = new ReplicaReport(0, first, trainer.steps(), seconds, exchanging, sent, model.plan().parameterCount(), model.backend().name());
      return new Result(trainer.steps(), attempts, List.of(driver), seconds);
    }
  }

  private float[] aggregateStep(String run, TrainJob job, float[][] parameters, long epoch, long batchInEpoch, int attempt, long step) {
    Broadcast<float[][]> weights = spark.broadcast(parameters);
    ReplicaHook hook = this.hook;
    try {
      JavaRDD<Integer> ranks = spark.parallelize(IntStream.range(0, job.replicas()).boxed().toList(), job.replicas());
      spark.setJobDescription("mspx train " + job.config() + ": step " + step + ", " + job.replicas() + " replicas, aggregate");
      return ranks
          .map(rank -> AggregateReplica.gradients(run, job, rank, weights.value(), epoch, batchInEpoch, attempt, step, hook))
          .treeAggregate(new float[0], DistributedTraining::add, DistributedTraining::add, job.treeDepth());
    } finally {
      weights.destroy();
    }
  }

  /** Element-wise sum; an empty array is the zero. Overwrites and returns {@code a} when it can. */
  static float[] add(float[] a, float[] b) {
    if (a.length == 0) {
      return b;
    }
    if (b.length == 0) {
      return a;
    }
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }

  /** Closes the resident replicas of a run: in this JVM (local mode) and, best effort, on the executors. */
  private void release(String run, int replicas) {
    AggregateReplica.release(run);
    if (!spark.isLocal()) {
      try {
        spark.parallelize(IntStream.range(0, replicas).boxed().toList(), replicas).foreach(r -> AggregateReplica.release(run));
      } catch (Exception e) {
        out.println("could not release the replicas on every executor: " + rootMessage(e));
      }
    }
  }
}
