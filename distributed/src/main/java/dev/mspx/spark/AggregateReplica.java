package dev.mspx.spark;

import dev.mspx.core.Model;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.ImageSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A replica of the {@code aggregate} collective, MLlib's pattern: every step is a Spark job whose task
 * {@code rank} receives the parameters (broadcast by the driver) and the data position, and returns the
 * gradients of its shard; {@code treeAggregate} sums them and the driver applies Adam. The model, its
 * arenas and the data stay open in the executor between steps (keyed by run and rank), so a step costs
 * the gradient pass, not a model's construction; a task that lands on an executor without them (a new
 * executor after a failure) opens them there.
 */
final class AggregateReplica implements AutoCloseable {

  private static final Map<String, AggregateReplica> RESIDENT = new ConcurrentHashMap<>();

  private final ImageSet data;
  private final Model model;
  private final Trainer trainer;
  private final GradientBuffer buffer;

  private AggregateReplica(TrainJob job, int rank) {
    this.data = Replicas.open(job.data(), job.shipped());
    try {
      this.model = Replicas.model(job, null, Replicas.backend(job.backend(), job.threads(), "replica-" + rank));
      this.trainer = Replicas.trainer(model, data, job, null, new Trainer.Shard(rank, job.replicas()), Trainer.GradientExchange.NONE);
      this.buffer = new GradientBuffer(model.backend(), trainer.gradientTensors());
    } catch (RuntimeException e) {
      data.close();
      throw e;
    }
  }

  /**
   * The gradients of replica {@code rank}'s shard of the global batch at {@code (epoch, batchInEpoch)}
   * for {@code parameters} (in the plan's order), with the shard's nats in the slot after them.
   */
  static float[] gradients(String run, TrainJob job, int rank, float[][] parameters, long epoch, long batchInEpoch,
      int attempt, long step, ReplicaHook hook) {
    AggregateReplica r = RESIDENT.computeIfAbsent(run + "/" + rank, k -> new AggregateReplica(job, rank));
    synchronized (r) {
      var specs = r.model.plan().parameters();
      for (int i = 0; i < specs.size(); i++) {
        r.model.parameters().write(specs.get(i).name(), parameters[i]);
      }
      r.trainer.seek(epoch, batchInEpoch);
      double nats = r.trainer.computeGradients();
      hook.gradientsComputed(attempt, rank, step);
      float[] flat = r.buffer.read().clone();
      flat[r.buffer.nats()] = (float) nats;
      return flat;
    }
  }

  /** Closes the replicas of {@code run} that live in this JVM. */
  static void release(String run) {
    RESIDENT.entrySet().removeIf(e -> {
      if (e.getKey().startsWith(run + "/")) {
        e.getValue().close();
        return true;
      }
      return false;
    });
  }

  @Override
  public void close() {
    buffer.close();
    model.close();
    data.close();
  }
}
