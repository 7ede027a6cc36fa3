package dev.mspx.samples;

import dev.mspx.api.HostMemory;
import dev.mspx.core.Conditions;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
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

  @Mixin SparkOption sparkOption;

  @Override
  public Integer call() throws IOException {
    Integer onSpark = sparkOption.delegate(spec);
    if (onSpark != null) {
      return onSpark;
    }
    PrintWriter printer = spec.commandLine().getOut();
    Sampler.RasterMode mode = switch (raster) {
      case "cached" -> Sampler.RasterMode.CACHED;
      case "full" -> Sampler.RasterMode.FULL;
      default -> throw new IllegalArgumentException("--raster " + raster + ": give cached or full");
    };
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1, got " + count);
    }
    try (Model model = Model.load(checkpoint, backendOption.module()); HostMemory host = HostMemory.create("sample")) {
      try (Model.Samples samples = model.sample(count, seed, mode, conditions(model), model.defaultBatch(count), host, Progress.NONE)) {
        Images.writeGrid(samples.images(), model.spec().levels(), out);
        printer.printf(Locale.ROOT, "%d images in %.2f s (%d network evaluations, raster part %s); wrote %s%n",
            count, samples.seconds(), samples.evaluations(), raster, out);
      }
    }
    return 0;
  }

  /** --label for a class-conditional model (default: image i gets class i mod classes); refused for others. */
  private Conditions conditions(Model model) {
    var conditioning = model.spec().conditioning();
    if (conditioning.isEmpty()) {
      if (label != null) {
        throw new IllegalArgumentException("--label " + label + ": model " + model.name() + " is unconditional; drop --label");
      }
      return Conditions.none();
    }
    if (label != null) {
      return Conditions.classLabels(label);
    }
    int classes = conditioning.get(0).width();
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = i % classes;
    }
    return Conditions.classLabels(labels);
  }
}
