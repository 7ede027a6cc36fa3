package dev.mspx.samples;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Conditions;
import dev.mspx.core.Model;
import dev.mspx.core.Sampler;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx sample}: draws images from a checkpoint into one picture (a grid, captioned with the
 * class for a class-conditional model) or one file per image; any format {@code javax.imageio}
 * writes, by the extension. Every output is checked before anything is drawn.
 */
@Command(name = "sample", description = "Draw images from a checkpoint into a grid picture (--out) or one file per image (--out-dir).")
final class SampleCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "A checkpoint.arrow written by mspx train (or an inference checkpoint).")
  Path checkpoint;

  @Option(names = "--count", defaultValue = "16", description = "Images to draw (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the draws (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--label", description = "Class to draw, for a class-conditional model (default: image i gets class i mod classes).")
  Integer label;

  static final class Output {
    @Option(names = "--out", description = "The picture to write: a grid of every image; .png, .jpg, .bmp, .gif or .tiff.")
    Path file;

    @Option(names = "--out-dir", description = "A folder to write one file per image into: sample-0000.png, sample-0001.png, ...")
    Path dir;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Output output;

  @Option(names = "--format", defaultValue = "png", description = "File format of --out-dir's files (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(names = "--scale", description = "Screen pixels per image pixel, nearest neighbour (default: about 100 pixels per image; 1 with --out-dir).")
  Integer scale;

  @Option(names = "--size", description = "Image size for a model trained on crops (mspx train --crop): the declaration's networks at that size.")
  Integer size;

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
      default -> throw new UsageException("--raster " + raster + ": give cached or full");
    };
    UsageException.atLeast("--count", count, 1);
    if (scale != null) {
      UsageException.atLeast("--scale", scale, 1);
    }
    if (size != null) {
      UsageException.atLeast("--size", size, 1);
    }
    checkOutputs();
    Checkpoint cp = Checkpoint.read(checkpoint);
    try (Model model = size == null ? ModelFiles.load(checkpoint, backendOption.module())
            : ModelFiles.load(checkpoint, backendOption.module(), size, ModelFiles.declared(cp, checkpoint).base());
        HostMemory host = HostMemory.create("sample")) {
      Conditions conditions = conditions(model);
      int side = model.spec().size();
      try (ProgressDisplay progress = ProgressDisplay.of("images", "img", 0, count, Math.max(1, count / 10), new PrintWriter(System.err, true),
              ProgressDisplay.terminal(System.err));
          Model.Samples samples = model.sample(count, seed, mode, conditions, batch(model), host, count > 1 ? progress : (d, t) -> {})) {
        List<String> captions = captions(model, cp);
        String wrote;
        if (output.file != null) {
          int s = scale != null ? scale : Images.defaultScale(side);
          List<BufferedImage> pictures = new ArrayList<>();
          for (int i = 0; i < count; i++) {
            pictures.add(Images.picture(samples.images(), i, model.spec().levels(), s));
          }
          int columns = captions != null ? Math.min(count, classes(model)) : (int) Math.ceil(Math.sqrt(count));
          Images.write(Images.grid(pictures, columns, captions), output.file);
          wrote = output.file + String.format(Locale.ROOT, " (%d×%d pixels at %d×)", side, side, s);
        } else {
          int s = scale != null ? scale : 1;
          for (int i = 0; i < count; i++) {
            Images.write(Images.picture(samples.images(), i, model.spec().levels(), s), fileOf(i));
          }
          wrote = count + " files " + fileOf(0).getFileName() + " … " + fileOf(count - 1).getFileName() + " in " + output.dir;
        }
        printer.printf(Locale.ROOT, "%d images %d×%d in %.2f s (%d network evaluations, raster part %s); wrote %s%n",
            count, side, side, samples.seconds(), samples.evaluations(), raster, wrote);
      }
    }
    return 0;
  }

  /**
   * Images drawn at once: what fits the default arena, but no more than a tenth of the count (at least
   * 16), so that a long run reports progress about ten times. Batch k draws from seed + k.
   */
  private int batch(Model model) {
    return Math.min(model.defaultBatch(count), Math.max(16, (count + 9) / 10));
  }

  /** --out or every --out-dir file, checked before any work: nothing is drawn that could not be written. */
  private void checkOutputs() {
    if (output.file != null) {
      Images.checkOutput(output.file, "--out");
      return;
    }
    if (Files.exists(output.dir) && !Files.isDirectory(output.dir)) {
      throw new IllegalArgumentException("--out-dir " + output.dir + " is a file: give a folder (new, or one without sample-NNNN files)");
    }
    Images.format(Path.of("x." + format), "--format");
    Images.checkWritableFolder(output.dir.toAbsolutePath(), "--out-dir " + output.dir);
    for (int i = 0; i < count; i++) {
      if (Files.exists(fileOf(i))) {
        throw new IllegalArgumentException("--out-dir " + output.dir + " already has " + fileOf(i).getFileName()
            + ": give a new or empty folder, or remove the earlier samples");
      }
    }
  }

  private Path fileOf(int i) {
    return output.dir.resolve(String.format(Locale.ROOT, "sample-%04d.%s", i, format.toLowerCase(Locale.ROOT)));
  }

  private static int classes(Model model) {
    return model.spec().conditioning().get(0).width();
  }

  /** The class of each image, for a class-conditional model; null for others. */
  private List<String> captions(Model model, Checkpoint cp) {
    if (model.spec().conditioning().isEmpty()) {
      return null;
    }
    List<String> names = CheckpointFacts.classNames(cp.metadata(), classes(model));
    List<String> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(names.get(label != null ? label : i % names.size()));
    }
    return out;
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
