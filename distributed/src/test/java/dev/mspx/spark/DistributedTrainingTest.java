package dev.mspx.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.AdamOp;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Tensor;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.backend.cpu.CpuVectorBackend;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Model;
import dev.mspx.core.ModelCatalog;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.ArrowImageFile;
import dev.mspx.core.data.ImageSet;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Synchronous data-parallel training in Spark's local mode: two replicas of batch 16 against one
 * process of batch 32, the ring against Spark's aggregation, and a replica killed mid-step.
 */
class DistributedTrainingTest {

  static final String MODEL = "spark-tiny28";
  static final int STEPS = 20;
  static final long SEED = 7;

  @TempDir static Path dir;
  static JavaSparkContext sc;
  static Path data;

  /** The uninterrupted runs every test compares with: the ring's and the aggregation's. */
  static DistributedTraining.Result ring;
  static DistributedTraining.Result aggregate;
  static StringWriter ringLog = new StringWriter();
  static StringWriter aggregateLog = new StringWriter();

  @BeforeAll
  static void start() {
    sc = LocalSpark.start("DistributedTrainingTest");
    data = LocalSpark.data(dir, 96, 8);
    ring = train(job("ring").withSaveEverySteps(5), dir.resolve("ring"), ReplicaHook.NONE, ringLog);
    aggregate = train(job("aggregate"), dir.resolve("aggregate"), ReplicaHook.NONE, aggregateLog);
  }

  @AfterAll
  static void stop() {
    sc.stop();
  }

  static TrainJob job(String collective) {
    return TrainJob.of(MODEL, data.toString(), 32, SEED, STEPS, 2).withCollective(collective).withThreads(1);
  }

  static BackendModule cpu(String name) {
    return BackendModule.of("cpu", () -> new CpuVectorBackend(name, 1));
  }

  static Map<String, float[]> parameters(Path checkpoint) {
    ExecutionPlan plan = ModelCatalog.load().plan(MODEL);
    return Checkpoint.read(checkpoint).parameterValues(plan);
  }

  static Map<String, float[]> parameters(Model model) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (ParameterSpec p : model.plan().parameters()) {
      out.put(p.name(), model.parameters().read(p.name()));
    }
    return out;
  }

  /** One process on the global batch of 32: the run data-parallel training stands in for. */
  static Map<String, float[]> oneProcess() {
    try (ImageSet set = ArrowImageFile.open(data); Model model = Model.create(MODEL, cpu("one"), SEED)) {
      Trainer t = model.train(set, Replicas.settings(job("ring")));
      for (int s = 0; s < STEPS; s++) {
        t.step();
      }
      return parameters(model);
    }
  }

  /**
   * Two replicas of 16 in this thread, their gradients added {@code g0 + g1} in float: what the ring
   * and the aggregation compute for two replicas, written out with no Spark, sockets or threads.
   */
  static Map<String, float[]> accumulated() {
    TrainJob job = job("ring");
    try (ImageSet set = ArrowImageFile.open(data); Model m0 = Model.create(MODEL, cpu("r0"), SEED); Model m1 = Model.create(MODEL, cpu("r1"), SEED);
        HostMemory host = HostMemory.create("test")) {
      Trainer t0 = m0.train(set, Replicas.settings(job), new Trainer.Shard(0, 2), Trainer.GradientExchange.NONE);
      Trainer t1 = m1.train(set, Replicas.settings(job), new Trainer.Shard(1, 2), Trainer.GradientExchange.NONE);
      for (int s = 0; s < STEPS; s++) {
        double nats = (float) t0.computeGradients() + (float) t1.computeGradients();
        List<Tensor> g0 = t0.gradientTensors(), g1 = t1.gradientTensors();
        for (int i = 0; i < g0.size(); i++) {
          try (HostTensor a = m0.backend().toHost(g0.get(i), host); HostTensor b = m1.backend().toHost(g1.get(i), host)) {
            float[] x = a.toFloatArray(), y = b.toFloatArray();
            for (int k = 0; k < x.length; k++) {
              x[k] = x[k] + y[k];
            }
            a.copyFrom(x);
            m0.backend().copyFromHost(a, g0.get(i));
            try (HostTensor c = host.allocate(a.shape(), a.dtype(), "sum")) {
              c.copyFrom(x);
              m1.backend().copyFromHost(c, g1.get(i));
            }
          }
        }
        t0.applyUpdate(nats);
        t1.applyUpdate(nats);
      }
      Map<String, float[]> p0 = parameters(m0);
      assertSame(p0, parameters(m1), "the two replicas");
      return p0;
    }
  }

  static double maxDifference(Map<String, float[]> a, Map<String, float[]> b) {
    double max = 0;
    for (String name : a.keySet()) {
      float[] x = a.get(name), y = b.get(name);
      for (int i = 0; i < x.length; i++) {
        max = Math.max(max, Math.abs(x[i] - y[i]));
      }
    }
    return max;
  }

  static void assertSame(Map<String, float[]> want, Map<String, float[]> got, String what) {
    assertEquals(want.keySet(), got.keySet());
    for (String name : want.keySet()) {
      assertArrayEquals(want.get(name), got.get(name), what + ": " + name);
    }
  }

  static DistributedTraining.Result train(TrainJob job, Path out, ReplicaHook hook, StringWriter log) {
    return new DistributedTraining(sc, new PrintWriter(log, true)).hook(hook).train(job, out.resolve("checkpoint.arrow"), false);
  }

  /**
   * The test: two replicas of batch 16 reach, after 20 steps, the parameters of one process of
   * batch 32 — bit for bit the parameters of one process that adds the two half-batches' gradients
   * (the ring and the aggregation sum two replicas as {@code g0 + g1}, and float addition is
   * commutative), and within 1e-6 of one process's own batch-32 step, whose kernels add the 32 images'
   * terms in one chain instead of two chains of 16 (float rounding, a few ulp per gradient, carried
   * through 20 Adam steps; measured 6e-8 here).
   */
  @Test
  void twoReplicasOfSixteenTakeTheStepsOfOneProcessOfThirtyTwo() {
    assertEquals(STEPS, ring.steps());
    assertEquals(STEPS, aggregate.steps());
    assertEquals(1, ring.attempts());
    assertEquals(2, ring.reports().size());
    assertTrue(ringLog.toString().contains("step 20  loss "), ringLog.toString());
    assertTrue(aggregateLog.toString().contains("step 20  loss "), aggregateLog.toString());

    Map<String, float[]> byRing = parameters(dir.resolve("ring/checkpoint.arrow"));
    Map<String, float[]> byAggregate = parameters(dir.resolve("aggregate/checkpoint.arrow"));
    Map<String, float[]> byAccumulation = accumulated();
    assertSame(byAccumulation, byRing, "ring against the accumulated half-batches");
    assertSame(byAccumulation, byAggregate, "aggregate against the accumulated half-batches");

    Map<String, float[]> one = oneProcess();
    double difference = maxDifference(one, byRing);
    System.out.printf("largest parameter difference, 2 replicas of 16 against one process of 32 after %d steps: %.3g%n", STEPS, difference);
    assertTrue(difference < 1e-6, "parameters within 1e-6 of one process of batch 32: " + difference);
    assertTrue(maxDifference(one, parameters(initial(), true)) > 1e-3, "and training moved them");
  }

  static Model initial() {
    return Model.create(MODEL, cpu("initial"), SEED);
  }

  static Map<String, float[]> parameters(Model model, boolean close) {
    try (model) {
      return parameters(model);
    }
  }

  /**
   * A replica killed in the middle of step 12 (after its gradients, before the exchange) fails the
   * barrier stage; the driver starts it again from the checkpoint of step 10, and the run ends with the
   * parameters of a run never interrupted.
   */
  @Test
  void aKilledReplicaResumesFromTheLastCheckpoint() {
    TrainJob job = job("ring").withSaveEverySteps(5);
    StringWriter log = new StringWriter();
    DistributedTraining.Result r = train(job, dir.resolve("killed"), (attempt, rank, step) -> {
      if (attempt == 0 && rank == 1 && step == 12) {
        throw new IllegalStateException("replica 1 killed in step 12");
      }
    }, log);
    assertEquals(2, r.attempts(), log.toString());
    assertEquals(STEPS, r.steps());
    assertTrue(log.toString().contains("the training stage failed (attempt 1 of 3)"), log.toString());
    assertTrue(log.toString().contains("at step 10"), log.toString());
    assertTrue(r.reports().stream().allMatch(rep -> rep.firstStep() == 10 && rep.lastStep() == STEPS), r.reports().toString());
    assertSame(parameters(dir.resolve("ring/checkpoint.arrow")), parameters(dir.resolve("killed/checkpoint.arrow")), "resumed against uninterrupted");
  }

  /** The aggregate collective runs a failed step's job again from the driver's state: the same end. */
  @Test
  void aFailedAggregationStepRunsAgain() {
    TrainJob job = job("aggregate");
    StringWriter log = new StringWriter();
    DistributedTraining.Result r = train(job, dir.resolve("agg-killed"), (attempt, rank, step) -> {
      if (attempt == 0 && rank == 0 && step == 5) {
        throw new IllegalStateException("replica 0 killed in step 5");
      }
    }, log);
    assertEquals(2, r.attempts(), log.toString());
    assertTrue(log.toString().contains("step 5 failed (attempt 1 of 3)"), log.toString());
    assertSame(parameters(dir.resolve("aggregate/checkpoint.arrow")), parameters(dir.resolve("agg-killed/checkpoint.arrow")), "retried against uninterrupted");
  }
}
