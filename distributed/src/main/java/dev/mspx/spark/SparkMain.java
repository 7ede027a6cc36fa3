package dev.mspx.spark;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Model;
import dev.mspx.core.ModelCatalog;
import dev.mspx.core.Sampler;
import dev.mspx.core.data.ArrowImageFile;
import dev.mspx.core.data.FashionMnist;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import dev.mspx.core.data.PhotoTiles;
import dev.mspx.core.data.PngFolder;
import dev.mspx.core.data.Splits;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The Spark entry point: {@code mspx train|eval|sample} with the same options, run on a Spark cluster
 * ({@code spark-submit --class dev.mspx.spark.SparkMain}) or in local mode ({@code ./mspx train --spark
 * local[2] ...}, which the launcher hands here).
 */
@Command(
    name = "mspx",
    mixinStandardHelpOptions = true,
    description = "mspx on Apache Spark: data-parallel training, evaluation and sampling fleets.",
    subcommands = {SparkMain.Train.class, SparkMain.Eval.class, SparkMain.Sample.class, SparkBench.Collectives.class, SparkBench.Steps.class,
      CommandLine.HelpCommand.class})
public final class SparkMain implements Runnable {

  @Spec CommandSpec spec;

  @Option(names = {"-v", "--verbose"}, description = "Spark's and mspx's INFO logs (default: warnings and errors).")
  static boolean verbose;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "give a command: train, eval or sample");
  }

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs a command line; returns the exit code (1 with one line on standard error for bad input). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new SparkMain());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof IllegalArgumentException || e instanceof dev.mspx.core.data.DatasetException || e instanceof dev.mspx.core.CheckpointException
          || e instanceof dev.mspx.core.TrainingDivergedException || e instanceof dev.mspx.api.BackendUnavailableException
          || e instanceof dev.mspx.spark.nccl.NcclException) {
        line.getErr().println("mspx: " + e.getMessage());
        line.getErr().flush();
        return 1;
      }
      throw e;
    });
    return cli.execute(args);
  }

  // --------------------------------------------------------------------------------- shared options

  /** Where and how Spark runs: {@code --spark MASTER}, {@code --conf key=value}. */
  static final class SparkOptions {
    @Option(names = "--spark", paramLabel = "MASTER",
        description = "Spark master: local[N] for one machine, spark://host:port, yarn, k8s://... (default: spark-submit's --master).")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting, e.g. --conf spark.task.cpus=2 (repeatable).")
    Map<String, String> conf = new LinkedHashMap<>();

    // cpu by default, unlike mspx's auto: a GPU on a cluster is something a job asks Spark for
    // (spark.task.resource.gpu.amount), so the GPU backend is chosen explicitly with it.
    @Option(names = "--backend", defaultValue = "cpu",
        description = "The executors' backend: cpu, cudnn or auto (default: ${DEFAULT-VALUE}; cudnn with spark.task.resource.gpu.amount).")
    String backend;

    @Option(names = "--threads", defaultValue = "0",
        description = "Kernel threads per task on the CPU backend; 0: spark.task.cpus (default).")
    int threads;

    @Option(names = "--shared-data", description = "--data is readable at the same path on every executor (a shared file system): do not ship it.")
    boolean sharedData;

    /** A context for {@code command}; local masters talk over the loopback only and start no web UI. */
    JavaSparkContext context(String command) {
      quietLogging();
      SparkConf conf = new SparkConf().setAppName("mspx " + command);
      if (master != null) {
        conf.setMaster(master);
      }
      if (!conf.contains("spark.master")) {
        throw new IllegalArgumentException("no Spark master: give --spark MASTER (e.g. --spark local[2]) or run through spark-submit --master");
      }
      this.conf.forEach(conf::set);
      if (conf.get("spark.master").startsWith("local")) {
        conf.setIfMissing("spark.driver.host", "127.0.0.1");
        conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        conf.setIfMissing("spark.ui.enabled", "false");
      }
      conf.setIfMissing("spark.ui.showConsoleProgress", "false");
      JavaSparkContext sc = new JavaSparkContext(conf);
      sc.setLogLevel(verbose ? "INFO" : "WARN");
      return sc;
    }

    /** How executors reach a prepared Arrow file: its path (local mode, or --shared-data), else shipped with addFile. */
    Data ship(JavaSparkContext sc, Path file) {
      if (sc.isLocal() || sharedData) {
        return new Data(file.toAbsolutePath().toString(), false, file);
      }
      sc.addFile(file.toAbsolutePath().toString());
      return new Data(file.getFileName().toString(), true, file);
    }
  }

  /**
   * Warnings and errors only, unless {@code -v} or the user configured log4j (Spark's conf/log4j2.properties
   * through spark-submit, or -Dlog4j.configurationFile): Spark logs dozens of INFO lines while it starts,
   * which on a command line drown the training's own lines.
   */
  static void quietLogging() {
    if (verbose) {
      return;
    }
    if (System.getProperty("log4j.configurationFile") == null && System.getProperty("log4j2.configurationFile") == null) {
      org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.WARN);
      // As Spark's own log4j2 template: Hadoop's "Unable to load native-hadoop library" says nothing useful here.
      org.apache.logging.log4j.core.config.Configurator.setLevel("org.apache.hadoop.util.NativeCodeLoader", org.apache.logging.log4j.Level.ERROR);
    }
    // mspx's own INFO lines (data preparation, backend choice) go through java.util.logging, as in mspx.
    if (System.getProperty("java.util.logging.config.file") == null && System.getProperty("java.util.logging.config.class") == null) {
      java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
      root.setLevel(java.util.logging.Level.WARNING);
      for (java.util.logging.Handler h : root.getHandlers()) {
        h.setLevel(java.util.logging.Level.WARNING);
      }
    }
  }

  /** A prepared Arrow file as the executors see it ({@code name}, shipped or a path) and as the driver does. */
  record Data(String name, boolean shipped, Path driverPath) {}

  /** The default data of a model, as {@code mspx train} chooses it. */
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
   * The prepared Arrow file of a split of {@code data}: the file itself for {@code NAME-train.arrow} or
   * {@code -test.arrow}, else the split as {@code mspx} prepares it, copied once into the cache as a
   * file of its own so that tasks can map it.
   */
  static Path prepared(Path data, Path cache, ModelSpec m, boolean train) {
    String lower = data.getFileName() == null ? "" : data.getFileName().toString().toLowerCase(Locale.ROOT);
    try (Splits splits = ImageSets.open(data, cache, m.channels(), m.size())) {
      if (Files.isRegularFile(data) && (lower.endsWith("-train.arrow") || lower.endsWith("-test.arrow"))) {
        String name = data.getFileName().toString();
        String stem = name.substring(0, name.length() - (lower.endsWith("-train.arrow") ? "train.arrow" : "test.arrow").length());
        return data.resolveSibling(stem + (train ? "train.arrow" : "test.arrow"));
      }
      ImageSet set = train ? splits.train() : splits.test();
      Path file = cache.resolve("spark-" + digest(data.toAbsolutePath() + "|" + set.describe()) + (train ? "-train.arrow" : "-test.arrow"));
      if (!Files.isRegularFile(file)) {
        ArrowImageFile.write(file, set, set.source());
      }
      return file;
    }
  }

  private static String digest(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------------------------------ train

  @Command(name = "train", description = "Data-parallel training on Spark barrier tasks; the driver keeps OUT/checkpoint.arrow current.")
  static final class Train implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--config", required = true, description = "A compiled model by name (mspx describe --list shows all).")
    String config;

    @Option(names = "--data", description = "Data folder or prepared NAME-train.arrow (default: as mspx train).")
    Path data;

    static final class Budget {
      @Option(names = "--minutes", description = "Train for this many minutes of wall time.")
      Double minutes;

      @Option(names = "--steps", description = "Train until this many steps in all (counting resumed ones).")
      Long steps;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Budget budget;

    @Option(names = "--batch", defaultValue = "32", description = "The global batch, split evenly over the replicas (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the initial weights and the data order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--clip", defaultValue = "0", description = "Clip the global gradient norm to this; 0: off (default).")
    double clip;

    @Option(names = "--out", required = true, description = "Folder for checkpoint.arrow (written by the driver).")
    Path out;

    @Option(names = "--resume", description = "Continue from OUT/checkpoint.arrow.")
    boolean resume;

    @Option(names = "--save-every", defaultValue = "60", description = "Seconds between checkpoints (default: ${DEFAULT-VALUE}).")
    double saveEvery;

    @Option(names = "--save-every-steps", defaultValue = "0", description = "Also a checkpoint every this many steps; 0: off (default).")
    long saveEverySteps;

    @Option(names = "--log-every", defaultValue = "10", description = "Steps between progress lines (default: ${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--cache", description = "Where prepared Arrow data files go (default: ~/.cache/mspx).")
    Path cache;

    @Option(names = "--replicas", description = "Replicas (barrier tasks); default: Spark's default parallelism.")
    Integer replicas;

    @Option(names = "--collective", defaultValue = "auto",
        description = "Gradient exchange: ring (sockets between the tasks), aggregate (treeAggregate + broadcast, MLlib's), nccl (GPUs), auto: nccl on cudnn, else ring (default).")
    String collective;

    @Option(names = "--max-attempts", defaultValue = "3", description = "Times the stage is started (resuming from the last checkpoint) before giving up (default: ${DEFAULT-VALUE}).")
    int maxAttempts;

    @Option(names = "--exchange-timeout", defaultValue = "600", description = "Seconds a replica waits for a peer in one exchange (default: ${DEFAULT-VALUE}).")
    double exchangeTimeout;

    @Option(names = "--tree-depth", defaultValue = "2", description = "treeAggregate depth for --collective aggregate (default: ${DEFAULT-VALUE}, as MLlib).")
    int treeDepth;

    @Mixin SparkOptions sparkOptions;

    @Override
    public Integer call() {
      quietLogging();
      PrintWriter out = spec.commandLine().getOut();
      Path checkpointFile = this.out.resolve("checkpoint.arrow");
      if (!resume && Files.exists(checkpointFile)) {
        throw new IllegalArgumentException(checkpointFile + " exists: pass --resume to continue it, or another --out");
      }
      String model = config;
      if (resume) {
        model = Checkpoint.read(checkpointFile).modelName();
        if (!model.equals(config)) {
          throw new IllegalArgumentException(checkpointFile + " is a checkpoint of " + model + ", not " + config
              + ": resume with --config " + model + ", or train " + config + " into another --out");
        }
      }
      ModelSpec m = ModelCatalog.load().plan(config).spec();
      Path cacheDir = cache != null ? cache : ImageSets.defaultCacheDir();
      Path trainFile = prepared(data != null ? data : defaultData(m), cacheDir, m, true);
      String exchange = collective.equals("auto") ? (sparkOptions.backend.equals("cudnn") ? "nccl" : "ring") : collective;
      try (JavaSparkContext sc = sparkOptions.context("train " + config)) {
        Data shipped = sparkOptions.ship(sc, trainFile);
        int n = replicas != null ? replicas : sc.defaultParallelism();
        long deadline = budget.minutes != null ? System.currentTimeMillis() + (long) (budget.minutes * 60_000) : Long.MAX_VALUE;
        TrainJob job = new TrainJob(config, shipped.name(), shipped.shipped(), batch, seed, lr, clip, budget.steps != null ? budget.steps : Long.MAX_VALUE,
            deadline, saveEvery, saveEverySteps, logEvery, n, exchange, sparkOptions.backend, sparkOptions.threads, maxAttempts,
            (long) (exchangeTimeout * 1000), treeDepth);
        out.printf(Locale.ROOT, "training %s (%,d parameters) on %s, %d replicas of batch %d (global %d), %s collective, backend %s, seed %d, Spark %s%n",
            config, ModelCatalog.load().plan(config).parameterCount(), trainFile, n, batch / Math.max(1, n), batch, exchange, sparkOptions.backend, seed,
            sc.master());
        out.flush();
        DistributedTraining.Result r = new DistributedTraining(sc, out).train(job, checkpointFile, resume);
        out.printf(Locale.ROOT, "trained to step %d in %.1f s (%d attempt%s); checkpoint %s%n", r.steps(), r.seconds(), r.attempts(),
            r.attempts() == 1 ? "" : "s", checkpointFile);
      }
      return 0;
    }
  }

  // ------------------------------------------------------------------------------------------- eval

  @Command(name = "eval", description = "Exact test bits/dim of a checkpoint, scored in Spark tasks. Last line: bits/dim: X.XXXX (N images).")
  static final class Eval implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "A checkpoint.arrow written by mspx train.")
    Path checkpoint;

    static final class Source {
      @Option(names = "--data", description = "IDX folder, photo folder or prepared .arrow: its test split is scored.")
      Path data;

      @Option(names = "--images", description = "Score exactly the PNG files in this folder.")
      Path images;
    }

    @ArgGroup(exclusive = true)
    Source source;

    @Option(names = "--limit", description = "Score at most this many images.")
    Integer limit;

    @Option(names = "--batch", defaultValue = "32", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--per-subpixel", description = "Not on Spark: mspx eval writes the per-sub-pixel CSV.")
    Path perSubpixel;

    @Option(names = "--cache", description = "Where prepared Arrow data files go (default: ~/.cache/mspx).")
    Path cache;

    @Option(names = "--partitions", description = "Tasks to spread the images over (default: Spark's default parallelism).")
    Integer partitions;

    @Mixin SparkOptions sparkOptions;

    @Override
    public Integer call() throws Exception {
      quietLogging();
      PrintWriter out = spec.commandLine().getOut();
      if (perSubpixel != null) {
        throw new IllegalArgumentException("--per-subpixel writes one CSV from one process: run mspx eval without --spark for it");
      }
      if (limit != null && limit < 1) {
        throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
      }
      ModelSpec m;
      try (Model model = Model.load(checkpoint, Replicas.backend("cpu", 1, "driver"))) {
        m = model.spec();
      }
      Path cacheDir = cache != null ? cache : ImageSets.defaultCacheDir();
      Path file;
      if (source != null && source.images != null) {
        try (PngFolder folder = PngFolder.load(source.images, m.channels(), m.size(), m.size())) {
          file = cacheDir.resolve("spark-" + digest(source.images.toAbsolutePath() + "|" + folder.describe()) + "-images.arrow");
          ArrowImageFile.write(file, folder, folder.source());
        }
      } else {
        file = prepared(source != null && source.data != null ? source.data : defaultData(m), cacheDir, m, false);
      }
      try (JavaSparkContext sc = sparkOptions.context("eval " + checkpoint)) {
        Data shipped = sparkOptions.ship(sc, file);
        Model.Evaluation e = new DistributedEvaluation(sc).evaluate(checkpoint, shipped.name(), shipped.shipped(), file,
            limit == null ? Integer.MAX_VALUE : limit, batch, partitions != null ? partitions : sc.defaultParallelism(), sparkOptions.backend,
            sparkOptions.threads);
        out.printf(Locale.ROOT, "bits/dim: %.4f (%d images)%n", e.bitsPerDim(), e.images());
      }
      return 0;
    }
  }

  // ----------------------------------------------------------------------------------------- sample

  @Command(name = "sample", description = "A sampling fleet: COUNT images over Spark tasks, image i from seed SEED+i, as PNG files or an Arrow file.")
  static final class Sample implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "A checkpoint.arrow written by mspx train.")
    Path checkpoint;

    @Option(names = "--count", defaultValue = "16", description = "Images to draw (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--seed", defaultValue = "0", description = "Image i is drawn from seed SEED+i (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--label", description = "Class to draw, for a class-conditional model (default: image i gets class i mod classes).")
    Integer label;

    @Option(names = "--out", required = true, description = "A folder for sample-SEED.png files, or a .arrow file for an Arrow image file.")
    Path out;

    @Option(names = "--raster", defaultValue = "cached", description = "cached or full raster sampling (same draws; default: ${DEFAULT-VALUE}).")
    String raster;

    @Option(names = "--partitions", description = "Tasks to spread the images over (default: Spark's default parallelism).")
    Integer partitions;

    @Option(names = "--batch", defaultValue = "0", description = "Images per sampling batch in a task; 0: the largest that fits 512 MiB (default).")
    int batch;

    @Mixin SparkOptions sparkOptions;

    @Override
    public Integer call() {
      quietLogging();
      PrintWriter printer = spec.commandLine().getOut();
      Sampler.RasterMode mode = switch (raster) {
        case "cached" -> Sampler.RasterMode.CACHED;
        case "full" -> Sampler.RasterMode.FULL;
        default -> throw new IllegalArgumentException("--raster " + raster + ": give cached or full");
      };
      if (batch < 0) {
        throw new IllegalArgumentException("--batch must be 0 (automatic) or more, got " + batch);
      }
      String lower = out.toString().toLowerCase(Locale.ROOT);
      if (lower.endsWith(".png")) {
        throw new IllegalArgumentException("--out " + out + ": a fleet writes one PNG file per image (sample-SEED.png) into a folder; give a folder,"
            + " or NAME.arrow for one Arrow image file (mspx sample without --spark draws one grid PNG)");
      }
      SamplingFleet.Format format = lower.endsWith(".arrow") ? SamplingFleet.Format.ARROW : SamplingFleet.Format.PNG;
      long start = System.nanoTime();
      try (JavaSparkContext sc = sparkOptions.context("sample " + checkpoint)) {
        int written = new SamplingFleet(sc).sample(checkpoint, count, seed, label, partitions != null ? partitions : sc.defaultParallelism(), batch, mode,
            format, out, sparkOptions.backend, sparkOptions.threads);
        printer.printf(Locale.ROOT, "%d images (seeds %d..%d) in %.2f s; wrote %s%n", written, seed, seed + count - 1, (System.nanoTime() - start) / 1e9,
            format == SamplingFleet.Format.PNG ? out.resolve("sample-SEED.png") : out);
      }
      return 0;
    }
  }
}
