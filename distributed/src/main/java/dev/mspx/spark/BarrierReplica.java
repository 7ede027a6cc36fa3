package dev.mspx.spark;

import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.ImageSet;
import dev.mspx.spark.nccl.NcclExchange;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.BarrierTaskContext;

/**
 * One replica of synchronous data-parallel training, the body of a barrier task: the single-process
 * loop ({@link Trainer#step()}) on this replica's shard of every global batch, its gradient exchange
 * the ring (or NCCL) between the stage's tasks. Rank 0 reports progress and sends checkpoints to the
 * driver; every replica stops on the same step (the stop request travels with the gradients).
 */
final class BarrierReplica {

  private BarrierReplica() {}

  static ReplicaReport run(TrainJob job, int attempt, byte[] checkpoint, String driver, ReplicaHook hook) {
    BarrierTaskContext context = BarrierTaskContext.get();
    int rank = context.partitionId();
    int replicas = job.replicas();
    if (context.getTaskInfos().length != replicas) {
      throw new IllegalStateException("barrier stage of " + context.getTaskInfos().length + " tasks for " + replicas + " replicas");
    }
    String host = ringHost(context, rank);
    Path local = checkpoint == null ? null : Replicas.localCopy(checkpoint, "mspx-replica-" + rank + "-");
    BackendModule backend = Replicas.backend(job.backend(), job.threads(), "replica-" + rank);
    try (ImageSet data = Replicas.open(job.data(), job.shipped());
        Model model = Replicas.model(job, local, backend)) {
      if (job.collective().equals("nccl")) {
        try (NcclExchange nccl = NcclExchange.connect(model.backend(), rank, replicas, message -> Arrays.asList(context.allGather(message)), hook, attempt)) {
          return loop(job, rank, model, data, local, nccl, nccl::requestStop, nccl::stopAgreed, nccl::secondsExchanging, nccl::bytesSent, driver, context);
        }
      }
      try (RingAllReduce ring = RingAllReduce.connect(rank, replicas, host, message -> Arrays.asList(context.allGather(message)),
              context::isInterrupted, job.timeoutMillis());
          HostExchange exchange = new HostExchange(model.backend(), ring, hook, attempt)) {
        return loop(job, rank, model, data, local, exchange, exchange::requestStop, exchange::stopAgreed, exchange::secondsExchanging, ring::bytesSent,
            driver, context);
      }
    } finally {
      if (local != null) {
        try {
          Files.deleteIfExists(local);
        } catch (IOException ignored) {
          // a temporary file; deleteOnExit has it too
        }
      }
    }
  }

  /**
   * The address this replica's ring socket listens on: the loopback in local mode (every replica is in
   * this JVM, and nothing should leave the machine), else the executor's address as Spark knows it
   * ({@code spark.mspx.ring.host} on the executor overrides it, for a machine with several networks).
   */
  static String ringHost(BarrierTaskContext context, int rank) {
    org.apache.spark.SparkConf conf = org.apache.spark.SparkEnv.get().conf();
    if (conf.contains("spark.mspx.ring.host")) {
      return conf.get("spark.mspx.ring.host");
    }
    if (conf.get("spark.master", "").startsWith("local")) {
      return "127.0.0.1";
    }
    String address = context.getTaskInfos()[rank].address();
    return address.contains(":") ? address.substring(0, address.lastIndexOf(':')) : address;
  }

  interface Seconds {
    double get();
  }

  interface Bytes {
    long get();
  }

  interface Flag {
    boolean get();
  }

  private static ReplicaReport loop(TrainJob job, int rank, Model model, ImageSet data, Path checkpoint, Trainer.GradientExchange exchange,
      Runnable requestStop, Flag stopAgreed, Seconds exchanging, Bytes sent, String driver, BarrierTaskContext context) {
    Trainer trainer = Replicas.trainer(model, data, job, checkpoint, new Trainer.Shard(rank, job.replicas()), exchange);
    long first = trainer.steps();
    long start = System.nanoTime(), lastSave = start;
    // Everyone starts the clock together: the model and the connections are ready on every replica.
    context.barrier();
    try (DriverChannel.Client reports = rank == 0 ? new DriverChannel.Client(driver) : null) {
      double recent = 0;
      int inWindow = 0;
      long savingNanos = 0;
      boolean stop = trainer.steps() >= job.steps();
      while (!stop) {
        if (rank == 0 && System.currentTimeMillis() >= job.deadlineMillis()) {
          requestStop.run();
        }
        recent += trainer.step();
        inWindow++;
        stop = stopAgreed.get() || trainer.steps() >= job.steps();
        if (rank == 0) {
          long step = trainer.steps();
          if (step % job.logEvery() == 0) {
            reports.progress(step, recent / inWindow, (System.nanoTime() - start) / 1e9);
            recent = 0;
            inWindow = 0;
          }
          boolean due = (System.nanoTime() - lastSave) / 1e9 >= job.saveEverySeconds()
              || (job.saveEverySteps() > 0 && step % job.saveEverySteps() == 0);
          if (due && !stop) {
            long saving = System.nanoTime();
            reports.checkpoint(step, bytes(trainer, rank));
            lastSave = System.nanoTime();
            savingNanos += lastSave - saving;
          }
        }
      }
      // The steps' time: without the checkpoints rank 0 wrote on the way, or the last one.
      double seconds = (System.nanoTime() - start - savingNanos) / 1e9;
      if (rank == 0) {
        reports.checkpoint(trainer.steps(), bytes(trainer, rank));
        reports.finished(trainer.steps());
      }
      return new ReplicaReport(rank, first, trainer.steps(), seconds, exchanging.get(), sent.get(), model.plan().parameterCount(),
          model.backend().name());
    }
  }

  /** The trainer's checkpoint as the bytes of its Arrow file. */
  static byte[] bytes(Trainer trainer, int rank) {
    try {
      Path tmp = Files.createTempFile("mspx-checkpoint-" + rank + "-", ".arrow");
      try {
        trainer.checkpoint().write(tmp);
        return Files.readAllBytes(tmp);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise the checkpoint: " + e.getMessage(), e);
    }
  }

  static List<ReplicaReport> one(ReplicaReport r) {
    return List.of(r);
  }
}
