package dev.mspx.samples;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.core.Sampler;
import dev.mspx.samples.configs.ReferenceConfigs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mspx sample}: draws images from a checkpoint and writes them as one PNG grid. */
@Command(name = "sample", description = "Draw images from a checkpoint into a PNG grid.")
final class SampleCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "A checkpoint.arrow written by mspx train.")
  Path checkpoint;

  @Option(names = "--count", defaultValue = "16", description = "Images to draw (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the draws (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--label", description = "Class to draw, for a class-conditional model (default: image i gets class i mod classes).")
  Integer label;

  @Option(names = "--out", required = true, description = "The PNG file to write.")
  Path out;

  @Option(names = "--raster", defaultValue = "cached", description = "How raster parts are sampled: cached (activations kept across pixels, each computed once per pixel; same draws) or full (one network evaluation per sub-pixel, the paper's baseline). Default: ${DEFAULT-VALUE}.")
  String raster;

  @Mixin BackendOption backendOption;

  @Override
  public Integer call() throws IOException {
    PrintWriter printer = spec.commandLine().getOut();
    Sampler.RasterMode mode = switch (raster) {
      case "cached" -> Sampler.RasterMode.CACHED;
      case "full" -> Sampler.RasterMode.FULL;
      default -> throw new IllegalArgumentException("--raster " + raster + ": give cached or full");
    };
    Checkpoint cp = Checkpoint.read(checkpoint);
    ExecutionPlan plan = ReferenceConfigs.plan(cp.get(Checkpoint.CONFIG));
    cp.checkFits(plan, checkpoint);
    try (Backend backend = backendOption.create();
        Parameters params = Parameters.initialise(plan, backend, 0);
        PlanRuntime rt = new PlanRuntime(params, count, PlanRuntime.Mode.INFERENCE);
        HostMemory host = HostMemory.create("sample");
        Sampler sampler = new Sampler(rt, mode)) {
      cp.restore(params);
      if (!plan.conditioning().isEmpty()) {
        int classes = plan.spec().conditioning().get(0).width();
        try (HostTensor labels = host.allocate(Shape.of(count), DType.INT32, "labels")) {
          for (int i = 0; i < count; i++) {
            labels.setInt(i, label != null ? label : i % classes);
          }
          rt.setConditioning(0, labels);
        }
      }
      long start = System.nanoTime();
      try (HostTensor images = sampler.sample(seed, host)) {
        double seconds = (System.nanoTime() - start) / 1e9;
        Images.writeGrid(images, plan.spec().levels(), out);
        printer.printf(Locale.ROOT, "%d images in %.2f s (%d network evaluations, raster part %s); wrote %s%n", count, seconds, sampler.evaluations(), raster, out);
      }
    }
    return 0;
  }
}
