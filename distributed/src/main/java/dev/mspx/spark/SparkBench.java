package dev.mspx.spark;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.Model;
import dev.mspx.core.ModelCatalog;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import scala.Function1;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;

/**
 * The measurements behind the README's figures: {@code bench-collective} (one all-reduce's time
 * against the gradient's size, ring against Spark's aggregation) and {@code bench-step} (a training
 * step at 1 and 2 replicas against one process). Timings are medians; every comparison is between
 * sides measured in the same run, alternated, since absolute times move with the machine's load.
 */
final class SparkBench {

  private SparkBench() {}

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  @Command(name = "bench-collective", description = "One gradient exchange's time against its size: the ring between barrier tasks, and treeAggregate + broadcast.")
  static final class Collectives implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--replicas", defaultValue = "2", description = "Replicas (default: ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--sizes", split = ",", defaultValue = "1000,10000,100000,1000000,4000000,16000000",
        description = "Gradient sizes in floats (default: ${DEFAULT-VALUE}).")
    int[] sizes;

    @Option(names = "--rounds", defaultValue = "9", description = "Timed exchanges per size and side (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--tree-depth", defaultValue = "2", description = "treeAggregate depth (default: ${DEFAULT-VALUE}).")
    int depth;

    @Mixin SparkMain.SparkOptions sparkOptions;

    @Override
    public Integer call() {
      SparkMain.quietLogging();
      PrintWriter out = spec.commandLine().getOut();
      try (JavaSparkContext sc = sparkOptions.context("bench-collective")) {
        out.printf(Locale.ROOT, "%d replicas on %s; medians of %d exchanges; load average %s%n", replicas, sc.master(), rounds, load());
        out.printf(Locale.ROOT, "%12s %10s %14s %14s %10s%n", "floats", "MiB", "ring ms", "aggregate ms", "agg/ring");
        for (int n : sizes) {
          // Alternated per size: ring, aggregate, ring, aggregate; the medians of both passes.
          double[] ring = new double[2 * rounds], agg = new double[2 * rounds];
          for (int pass = 0; pass < 2; pass++) {
            System.arraycopy(ring(sc, n), 0, ring, pass * rounds, rounds);
            System.arraycopy(aggregate(sc, n), 0, agg, pass * rounds, rounds);
          }
          double r = median(ring), a = median(agg);
          out.printf(Locale.ROOT, "%12d %10.2f %14.2f %14.2f %10.1f%n", n, n * 4.0 / (1 << 20), r * 1e3, a * 1e3, a / r);
          out.flush();
        }
      }
      return 0;
    }

    @SuppressWarnings("unchecked")
    private double[] ring(JavaSparkContext sc, int n) {
      int rounds = this.rounds, replicas = this.replicas;
      JavaRDDs ranks = new JavaRDDs(sc, replicas);
      Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<double[]>> body =
          (Function1<scala.collection.Iterator<Integer>, scala.collection.Iterator<double[]>> & java.io.Serializable) partition -> {
            org.apache.spark.BarrierTaskContext context = org.apache.spark.BarrierTaskContext.get();
            int rank = context.partitionId();
            try (RingAllReduce ring = RingAllReduce.connect(rank, replicas, BarrierReplica.ringHost(context, rank),
                message -> Arrays.asList(context.allGather(message)), context::isInterrupted, 600_000)) {
              float[] data = new float[n];
              double[] seconds = new double[rounds];
              for (int k = -2; k < rounds; k++) {
                Arrays.fill(data, rank + 1);
                context.barrier();
                long start = System.nanoTime();
                ring.allReduce(data);
                if (k >= 0) {
                  seconds[k] = (System.nanoTime() - start) / 1e9;
                }
              }
              return CollectionConverters.asScala(List.of(seconds).iterator());
            }
          };
      RDD<double[]> stage = ranks.rdd().barrier().mapPartitions(body, false, ClassTag$.MODULE$.apply(double[].class));
      return stage.toJavaRDD().collect().getFirst();
    }

    private double[] aggregate(JavaSparkContext sc, int n) {
      double[] seconds = new double[rounds];
      float[] previous = new float[n];
      for (int k = -2; k < rounds; k++) {
        long start = System.nanoTime();
        // One step's exchange as the aggregate collective makes it: the last sum broadcast, every task
        // reading it and returning its gradient, treeAggregate summing them on the way to the driver.
        Broadcast<float[]> weights = sc.broadcast(previous);
        previous = sc.parallelize(IntStream.range(0, replicas).boxed().toList(), replicas)
            .map(rank -> {
              float[] g = new float[weights.value().length];
              Arrays.fill(g, rank + 1);
              return g;
            })
            .treeAggregate(new float[0], DistributedTraining::add, DistributedTraining::add, depth);
        weights.destroy();
        if (k >= 0) {
          seconds[k] = (System.nanoTime() - start) / 1e9;
        }
      }
      return seconds;
    }
  }

  /** An RDD of ranks, one per partition. */
  private record JavaRDDs(JavaSparkContext sc, int replicas) {
    org.apache.spark.api.java.JavaRDD<Integer> rdd0() {
      return sc.parallelize(IntStream.range(0, replicas).boxed().toList(), replicas);
    }

    RDD<Integer> rdd() {
      return rdd0().rdd();
    }
  }

  @Command(name = "bench-step", description = "Training step time: one process, then 1 and 2 replicas on Spark (ring), alternated.")
  static final class Steps implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--config", required = true, description = "A compiled model by name.")
    String config;

    @Option(names = "--data", description = "Data folder or prepared NAME-train.arrow (default: as mspx train).")
    Path data;

    @Option(names = "--batch", defaultValue = "8", description = "Batch per replica (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--steps", defaultValue = "10", description = "Timed steps per run (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--rounds", defaultValue = "2", description = "Alternated rounds; the last one is reported (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--cache", description = "Where prepared Arrow data files go (default: ~/.cache/mspx).")
    Path cache;

    @Mixin SparkMain.SparkOptions sparkOptions;

    @Override
    public Integer call() throws Exception {
      SparkMain.quietLogging();
      PrintWriter out = spec.commandLine().getOut();
      ModelSpec m = ModelCatalog.load().plan(config).spec();
      Path file = SparkMain.prepared(data != null ? data : SparkMain.defaultData(m), cache != null ? cache : ImageSets.defaultCacheDir(), m, true);
      Path scratch = Files.createTempDirectory("mspx-bench-step");
      try (JavaSparkContext sc = sparkOptions.context("bench-step")) {
        out.printf(Locale.ROOT, "%s, %d images per replica per step, %d timed steps, Spark %s, load average %s%n", config, batch, steps, sc.master(), load());
        List<String> lines = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
          lines.clear();
          double one = oneProcess(file, round);
          lines.add(String.format(Locale.ROOT, "one process (no Spark), batch %d: %.3f s/step, %.1f images/s", batch, one, batch / one));
          for (int replicas : new int[] {1, 2}) {
            TrainJob job = TrainJob.of(config, file.toString(), batch * replicas, round, steps, replicas).withThreads(1);
            Path dir = scratch.resolve("r" + round + "-" + replicas);
            DistributedTraining.Result r = new DistributedTraining(sc, new PrintWriter(PrintWriter.nullWriter())).train(job, dir.resolve("checkpoint.arrow"), false);
            ReplicaReport rank0 = r.reports().stream().filter(x -> x.rank() == 0).findFirst().orElseThrow();
            double perStep = rank0.seconds() / rank0.steps();
            lines.add(String.format(Locale.ROOT, "%d replica%s (ring), global batch %d: %.3f s/step (exchange %.3f s, %.2f MiB per replica), %.1f images/s",
                replicas, replicas == 1 ? " " : "s", batch * replicas, perStep, rank0.secondsExchanging() / rank0.steps(),
                rank0.bytesSent() / (double) rank0.steps() / (1 << 20), batch * replicas / perStep));
          }
          out.printf(Locale.ROOT, "round %d:%n", round + 1);
          lines.forEach(l -> out.println("  " + l));
          out.flush();
        }
      }
      return 0;
    }

    /** Seconds per step of one process on this JVM's thread, one kernel thread, after a warm-up step. */
    private double oneProcess(Path file, long seed) {
      try (ImageSet set = dev.mspx.core.data.ArrowImageFile.open(file);
          Model model = Model.create(config, Replicas.backend("cpu", 1, "bench"), seed)) {
        Trainer t = model.train(set, Replicas.settings(TrainJob.of(config, file.toString(), batch, seed, steps, 1)));
        t.step();
        long start = System.nanoTime();
        for (int s = 0; s < steps; s++) {
          t.step();
        }
        return (System.nanoTime() - start) / 1e9 / steps;
      }
    }
  }

  static String load() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2] + " (" + Runtime.getRuntime().availableProcessors() + " cores)";
    } catch (Exception e) {
      return "unknown";
    }
  }
}
