package dev.mspx.samples;

import dev.mspx.api.Backend;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.core.Sampler;
import dev.mspx.samples.configs.ReferenceConfigs;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mspx bench}: measurements that belong in a table, each with the command that reproduces it. */
@Command(name = "bench", description = "Benchmarks.", subcommands = {BenchCommand.Sampling.class, dev.mspx.samples.bench.CodecBench.class})
final class BenchCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * Multiscale against raster sampling time per image at each size. The multiscale model is the
   * config's architecture at that size (its base and widths, as many upscalings as the size needs);
   * the raster model is the config's raster counterpart (the {@code -raster} config, else a gated
   * PixelCNN of twice the layers at the same width, as the reference pairs are). Raster sampling is
   * timed while it fits the budget and extrapolated beyond from its measured cost per evaluation
   * (one full network evaluation per sub-pixel, cost proportional to the image area). Two columns
   * measure caching ({@link Sampler.RasterMode#CACHED}) on both sides: the multiscale model with its
   * base net sampled with cached activations, and the raster model likewise (run up to
   * {@code --cached-max-size}, extrapolated by area beyond); {@code speedup_cached} compares those
   * two. Each measurement follows an untimed run of the same work, so that compilation is not timed.
   */
  @Command(name = "sampling", description = "Multiscale vs raster sampling time per image, speed-up and network evaluations.")
  static final class Sampling implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--config", required = true, description = "The multiscale config: fashion28, photo32 or speed512.")
    String config;

    @Option(names = "--sizes", split = ",", description = "Image sizes (default: the config's pyramid above the base).")
    List<Integer> sizes;

    @Option(names = "--raster-budget", defaultValue = "20", description = "Seconds of raster sampling measured per size (default: ${DEFAULT-VALUE}).")
    double rasterBudget;

    @Option(names = "--raster-max-size", defaultValue = "64", description = "Largest size at which raster sampling is run; beyond, it is extrapolated (default: ${DEFAULT-VALUE}).")
    int rasterMaxSize;

    @Option(names = "--cached-max-size", defaultValue = "64", description = "Largest size at which cached raster sampling is run; beyond, it is extrapolated by area (default: ${DEFAULT-VALUE}).")
    int cachedMaxSize;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Mixin BackendOption backendOption;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      ModelSpec base = ReferenceConfigs.plan(config).spec();
      if (base.kind() != ModelKind.MULTISCALE) {
        throw new IllegalArgumentException("--config " + config + " is a raster model; give its multiscale config");
      }
      ModelSpec rasterBase = rasterCounterpart(config, base);
      List<Integer> todo = sizes != null ? sizes : base.pyramid().subList(1, base.pyramid().size());
      out.printf(Locale.ROOT, "# mspx bench sampling --config %s --sizes %s (raster: %d layers, %d filters, kernel %d)%n",
          config, todo.toString().replace(" ", "").replace("[", "").replace("]", ""),
          rasterBase.gated().layers(), rasterBase.gated().filters(), rasterBase.gated().kernel());
      out.println("size  multiscale_ms  ms_evals  raster_ms  raster_evals  raster_how  speedup  ms_cached_base_ms  cached_raster_ms  cached_how  speedup_cached");
      out.flush();
      double rasterPerEval = Double.NaN;
      int rasterMeasuredAt = 0;
      double cachedPerPixel = Double.NaN;
      int cachedMeasuredAt = 0;
      try (Backend backend = backendOption.create(); HostMemory host = HostMemory.create("bench")) {
        for (int size : todo) {
          ModelSpec ms = ModelSpec.builder().from(base).name(base.name() + "@" + size).size(size).build();
          ExecutionPlan plan = PlanBuilder.build(ms);
          double msMillis, msCachedMillis;
          long msEvals;
          try (Parameters p = Parameters.initialise(plan, backend, seed);
              PlanRuntime rt = new PlanRuntime(p, 1, PlanRuntime.Mode.INFERENCE)) {
            double[] full = timeSampler(rt, Sampler.RasterMode.FULL, host);
            msMillis = full[0];
            msEvals = (long) full[1];
            msCachedMillis = timeSampler(rt, Sampler.RasterMode.CACHED, host)[0];
          }
          long rasterEvals = (long) ms.channels() * size * size;
          String how;
          double rasterMillis;
          if (size <= rasterMaxSize) {
            ModelSpec rs = ModelSpec.builder().from(rasterBase).name(rasterBase.name() + "@" + size).size(size).base(size).build();
            double[] measured = timeRaster(PlanBuilder.build(rs), backend, rasterEvals);
            rasterPerEval = measured[0];
            rasterMeasuredAt = size;
            boolean complete = measured[1] >= rasterEvals;
            rasterMillis = rasterPerEval * rasterEvals;
            how = complete ? "measured" : String.format(Locale.ROOT, "timed %d of %d evals", (long) measured[1], rasterEvals);
          } else {
            rasterMillis = rasterPerEval * rasterEvals * ((double) size * size) / ((double) rasterMeasuredAt * rasterMeasuredAt);
            how = "extrapolated from " + rasterMeasuredAt;
          }
          double cachedMillis;
          String cachedHow;
          if (size <= cachedMaxSize) {
            ModelSpec rs = ModelSpec.builder().from(rasterBase).name(rasterBase.name() + "@" + size).size(size).base(size).build();
            cachedMillis = timeCached(PlanBuilder.build(rs), backend, host);
            cachedPerPixel = cachedMillis / ((double) size * size);
            cachedMeasuredAt = size;
            cachedHow = "measured";
          } else {
            cachedMillis = cachedPerPixel * size * size;
            cachedHow = "extrapolated_from_" + cachedMeasuredAt;
          }
          out.printf(Locale.ROOT, "%4d  %13.1f  %8d  %9.1f  %12d  %s  %.1f  %17.1f  %16.1f  %s  %.1f%n", size, msMillis, msEvals, rasterMillis, rasterEvals,
              how.replace(' ', '_'), rasterMillis / msMillis, msCachedMillis, cachedMillis, cachedHow, cachedMillis / msCachedMillis);
          out.flush();
        }
      }
      return 0;
    }

    /** Milliseconds for one image and the backend evaluations it took, after an untimed draw. */
    private double[] timeSampler(PlanRuntime rt, Sampler.RasterMode mode, HostMemory host) {
      try (Sampler sampler = new Sampler(rt, mode)) {
        try (HostTensor warmUp = sampler.sample(seed + 1, host)) {
          // untimed: the JIT compiles the kernels for these shapes, and the arena is touched once
        }
        long before = sampler.evaluations();
        long t0 = System.nanoTime();
        try (HostTensor img = sampler.sample(seed, host)) {
          return new double[] {(System.nanoTime() - t0) / 1e6, sampler.evaluations() - before};
        }
      }
    }

    /**
     * Milliseconds to draw one image with cached raster sampling ({@link Sampler.RasterMode#CACHED}),
     * after an untimed draw of the same size.
     */
    private double timeCached(ExecutionPlan plan, Backend backend, HostMemory host) {
      try (Parameters p = Parameters.initialise(plan, backend, seed);
          PlanRuntime rt = new PlanRuntime(p, 1, PlanRuntime.Mode.INFERENCE)) {
        return timeSampler(rt, Sampler.RasterMode.CACHED, host)[0];
      }
    }

    /** Milliseconds per raster evaluation and evaluations timed, within the budget. */
    private double[] timeRaster(ExecutionPlan plan, Backend backend, long wanted) {
      try (Parameters p = Parameters.initialise(plan, backend, seed);
          PlanRuntime rt = new PlanRuntime(p, 1, PlanRuntime.Mode.INFERENCE)) {
        Network net = plan.networks().get(0);
        rt.run(net.head()); // warm-up, not timed
        long t0 = System.nanoTime();
        long done = 0;
        while (done < wanted && (System.nanoTime() - t0) / 1e9 < rasterBudget) {
          rt.run(net.head());
          done++;
        }
        return new double[] {(System.nanoTime() - t0) / 1e6 / done, done};
      }
    }

    static ModelSpec rasterCounterpart(String config, ModelSpec multiscale) {
      try {
        return ReferenceConfigs.plan(config + "-raster").spec();
      } catch (IllegalArgumentException none) {
        GatedSpec g = multiscale.gated();
        return ModelSpec.raster(multiscale.name() + "Raster", multiscale.channels(), multiscale.levels(), multiscale.size(),
            new GatedSpec(2 * g.layers(), g.filters(), g.kernel()));
      }
    }
  }
}
