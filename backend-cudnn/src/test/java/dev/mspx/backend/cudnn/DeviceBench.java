package dev.mspx.backend.cudnn;

import dev.mspx.api.AdamOp;
import dev.mspx.api.Availability;
import dev.mspx.api.BackendSelection;
import dev.mspx.api.HostMemory;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Conditions;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import dev.mspx.core.Trainer;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * The GPU timings of device-check.sh, on {@link CudnnBackend} opened as every user opens one (a
 * {@link Model} through {@link BackendModule}): the fashion28 training step (batch 32: the trainer's
 * step of gathering and setting images, gradients, loss read-back and Adam with its gradient-norm
 * check) and speed512 sampling of one 512×512 image with {@link Sampler}. Writes {@code
 * java-bench.json} into the folder given as the first argument. The models are built from DESIGN.md's
 * table through {@link PlanBuilder} (backend-cudnn cannot depend on samples, which holds the compiled
 * reference configurations; samples' tests check that compiled and run-time plans are equal).
 *
 * <p>Usage: {@code DeviceBench <out-dir> [--steps 20] [--warmup 3] [--batch 32] [--samples 3]
 * [--size 512] [--backend cudnn]}; exit status 2 when the backend is unavailable (the reason is
 * printed). {@code --backend cpu} runs the same measurements on the CPU, to check this program where
 * there is no GPU.
 */
public final class DeviceBench {

  static final ModelSpec FASHION28 =
      ModelSpec.multiscale(
          "fashion28", 1, 256, 28, 7, new GatedSpec(6, 64, 5), UpscaleSpec.typeA(64, 4));

  static final ModelSpec SPEED512 =
      ModelSpec.multiscale(
          "speed512", 3, 256, 512, 8, new GatedSpec(6, 64, 5), UpscaleSpec.typeA(64, 4));

  private DeviceBench() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: DeviceBench <out-dir> [--steps N] [--warmup N] [--batch N] [--samples N] [--size N]");
      System.exit(64);
    }
    Path out = Path.of(args[0]);
    int steps = option(args, "--steps", 20);
    int warmup = option(args, "--warmup", 3);
    int batch = option(args, "--batch", 32);
    int samples = option(args, "--samples", 3);
    int size = option(args, "--size", 512);
    String backendName = option(args, "--backend", "cudnn");
    Files.createDirectories(out);

    // The one route to a backend: the survey says whether it can run, its module makes it.
    BackendSelection.Probe probe = BackendSelection.survey().stream()
        .filter(p -> p.provider().name().equals(backendName))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown backend " + backendName));
    Availability a = probe.availability();
    List<String> json = new ArrayList<>();
    json.add(field("backend", backendName));
    json.add(field("availability", a.summary()));
    json.add(field("details", String.join("; ", a.details())));
    json.add(field("tf32", Boolean.getBoolean(CudnnBackend.TF32_PROPERTY) ? "allowed" : "off (FMA kernels only)"));
    json.add(field("algorithms", System.getProperty(ConvolutionAlgorithms.SEARCH_PROPERTY, "heuristic")));
    if (!a.available()) {
      write(out, json);
      System.err.println("DeviceBench: " + backendName + " is " + a.summary());
      System.exit(2);
    }
    run(BackendModule.select(backendName), out, json, batch, warmup, steps, size, samples, FASHION28, SPEED512);
    System.out.println("DeviceBench: wrote " + out.resolve("java-bench.json"));
  }

  /** Times {@code train} (a training step) and {@code sample} (drawing images), adding to {@code json}. */
  static void run(
      BackendModule backend,
      Path out,
      List<String> json,
      int batch,
      int warmup,
      int steps,
      int size,
      int samples,
      ModelSpec train,
      ModelSpec sample)
      throws IOException {
    double[] step = trainingSteps(backend, train, batch, warmup, steps);
    json.add(raw(train.name() + "_step", "{\"batch\": " + batch + ", \"warmup\": " + warmup
        + ", \"median_s\": " + fmt(median(step)) + ", \"min_s\": "
        + fmt(Arrays.stream(step).min().orElse(Double.NaN)) + ", \"times_s\": " + list(step) + "}"));
    write(out, json);
    SampleRun s = sampling(backend, sample, size, samples);
    json.add(raw(sample.name() + "_sample", "{\"size\": " + size + ", \"batch\": 1, \"evaluations\": "
        + s.evaluations + ", \"median_s\": " + fmt(median(s.seconds)) + ", \"times_s\": "
        + list(s.seconds) + ", \"mean_level\": " + fmt(s.meanLevel) + "}"));
    write(out, json);
  }

  /**
   * Seconds per training step of a {@link Model}'s trainer (gather a batch, set it, gradients, the loss
   * read back, Adam), after {@code warmup} untimed ones, on random images.
   */
  static double[] trainingSteps(BackendModule backend, ModelSpec spec, int batch, int warmup, int steps) {
    int c = spec.channels(), side = spec.size(), n = batch * (warmup + steps);
    SplittableRandom random = new SplittableRandom(0);
    byte[] pixels = new byte[n * c * side * side];
    for (int k = 0; k < pixels.length; k++) {
      pixels[k] = (byte) random.nextInt(256);
    }
    double[] times = new double[steps];
    try (Model model = Model.create(PlanBuilder.build(spec), backend, 0);
        ImageSet data = ImageSets.fromBytes(c, side, side, pixels, null, 0, "random")) {
      Trainer trainer = model.train(data, new Trainer.Settings(batch, 0, AdamOp.defaults(), 0));
      for (int i = 0; i < warmup + steps; i++) {
        long t0 = System.nanoTime();
        double loss = trainer.step();
        model.backend().synchronize();
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "%s step %d: %.4f s, %.4f bits/dim%n", spec.name(), i, seconds, loss);
        if (i >= warmup) {
          times[i - warmup] = seconds;
        }
      }
    }
    return times;
  }

  record SampleRun(double[] seconds, long evaluations, double meanLevel) {}

  /** One image of {@code size}² per draw (full raster re-evaluation of the base), after one untimed draw. */
  static SampleRun sampling(BackendModule backend, ModelSpec model, int size, int draws) {
    ModelSpec spec = ModelSpec.builder().from(model).size(size).build();
    double[] times = new double[draws];
    long evaluations = 0;
    double mean = Double.NaN;
    try (Model m = Model.create(PlanBuilder.build(spec), backend, 0); HostMemory host = HostMemory.create("samples")) {
      for (int i = -1; i < draws; i++) {
        try (Model.Samples drawn = m.sample(1, i + 1, Sampler.RasterMode.FULL, Conditions.none(), 1, host, Progress.NONE)) {
          evaluations = drawn.evaluations();
          byte[] b = drawn.images().toByteArray();
          long sum = 0;
          for (byte v : b) {
            sum += Byte.toUnsignedInt(v);
          }
          mean = (double) sum / b.length;
          System.err.printf(Locale.ROOT, "%s sample at %d: %.4f s, %d evaluations%n", model.name(), size, drawn.seconds(), evaluations);
          if (i >= 0) {
            times[i] = drawn.seconds();
          }
        }
      }
    }
    return new SampleRun(times, evaluations, mean);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static int option(String[] args, String name, int fallback) {
    return Integer.parseInt(option(args, name, Integer.toString(fallback)));
  }

  private static String option(String[] args, String name, String fallback) {
    for (int i = 1; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }

  private static void write(Path out, List<String> fields) throws IOException {
    Files.writeString(out.resolve("java-bench.json"), "{\n  " + String.join(",\n  ", fields) + "\n}\n");
  }

  private static String field(String name, String value) {
    return raw(name, "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
  }

  private static String raw(String name, String json) {
    return "\"" + name + "\": " + json;
  }

  private static String fmt(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6f", v) : "null";
  }

  private static String list(double[] v) {
    return Arrays.stream(v).mapToObj(DeviceBench::fmt).collect(Collectors.joining(", ", "[", "]"));
  }
}
