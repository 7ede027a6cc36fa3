package dev.mspx.samples;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Model;
import dev.mspx.core.Scorer;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import dev.mspx.core.data.PngFolder;
import dev.mspx.core.data.Splits;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mspx eval}: exact bits/dim of a checkpoint on a test set; the last line is {@code bits/dim: X (N images)}. */
@Command(name = "eval", description = {
    "Exact test bits/dim of a checkpoint. Last line: bits/dim: X.XXXX (N images).",
    "--heatmap draws each image beside a map of its per-sub-pixel surprise in bits."})
final class EvalCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "A checkpoint.arrow written by mspx train (or an inference checkpoint).")
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

  @Option(names = "--batch", description = "Images per forward pass (default: as many as fit a 512 MB arena, at most 64).")
  Integer batch;

  @Option(names = "--per-subpixel", description = "Write image,channel,y,x,bits (one row per sub-pixel) to this CSV.")
  Path perSubpixel;

  @Option(names = "--heatmap", description = "Write a picture of the first --heatmap-count images, each beside a heat map of its bits per pixel.")
  Path heatmap;

  @Option(names = "--heatmap-count", defaultValue = "16", description = "Images in the --heatmap picture (default: ${DEFAULT-VALUE}).")
  int heatmapCount;

  @Option(names = "--record", description = "Write the result into the checkpoint's record (mspx checkpoint show prints it); not with --images.")
  boolean record;

  @Option(names = "--cache", description = "Where prepared Arrow data files go (default: ~/.cache/mspx).")
  Path cache;

  @Mixin BackendOption backendOption;

  @Mixin SparkOption sparkOption;

  @Override
  public Integer call() throws IOException {
    Integer onSpark = sparkOption.delegate(spec);
    if (onSpark != null) {
      return onSpark;
    }
    PrintWriter out = spec.commandLine().getOut();
    if (limit != null) {
      UsageException.atLeast("--limit", limit, 1);
    }
    if (batch != null) {
      UsageException.atLeast("--batch", batch, 1);
    }
    UsageException.atLeast("--heatmap-count", heatmapCount, 1);
    if (perSubpixel != null && Files.isDirectory(perSubpixel)) {
      throw new IllegalArgumentException("--per-subpixel " + perSubpixel + " is a folder: give a file name, e.g. " + perSubpixel.resolve("bits.csv"));
    }
    if (perSubpixel != null) {
      Images.checkWritableFolder(perSubpixel.toAbsolutePath().getParent(), "--per-subpixel " + perSubpixel);
    }
    if (heatmap != null) {
      Images.checkOutput(heatmap, "--heatmap");
    }
    if (record && source != null && source.images != null) {
      throw new UsageException("--record keeps a test split's bits/dim: it does not go with --images");
    }
    if (record && !Files.isWritable(checkpoint)) {
      throw new IllegalArgumentException("--record: " + checkpoint + " is not writable by this user");
    }
    try (Model model = ModelFiles.load(checkpoint, backendOption.module());
        Opened opened = open(model.spec())) {
      ImageSet set = opened.set();
      int total = limit == null ? set.size() : Math.min(limit, set.size());
      int n = batch != null ? batch : Math.min(64, model.defaultBatch(total));
      Arenas.check(model.plan().inferenceArena().bytes(Math.min(n, total)), "--batch " + n, "eval");
      SurpriseMap surprise = heatmap == null ? null : new SurpriseMap(model.spec(), Math.min(heatmapCount, total));
      Model.Evaluation result;
      try (BufferedWriter csv = perSubpixel == null ? null : Files.newBufferedWriter(perSubpixel);
          ProgressDisplay progress = ProgressDisplay.of("images", "img", 0, total, Math.max(1, total / 10), new PrintWriter(System.err, true),
              ProgressDisplay.terminal(System.err))) {
        if (csv != null) {
          csv.write("image,channel,y,x,bits\n");
        }
        Scorer.SubpixelSink sink = csv == null && surprise == null ? null : (image, c, y, x, bits) -> {
          if (surprise != null) {
            surprise.add(image, c, y, x, bits);
          }
          if (csv != null) {
            try {
              csv.write(image + "," + c + "," + y + "," + x + "," + String.format(Locale.ROOT, "%.6f", bits) + "\n");
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          }
        };
        result = model.evaluate(set, total, n, sink, total >= 256 ? progress : (d, t) -> {});
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      if (surprise != null) {
        surprise.write(set, heatmap);
        out.println("wrote " + heatmap + " (" + surprise.images() + " images beside their bits per pixel)");
      }
      if (record) {
        Checkpoint cp = Checkpoint.read(checkpoint);
        java.util.Map<String, String> meta = new java.util.HashMap<>(cp.metadata());
        meta.put(CheckpointFacts.TEST_BITS_PER_DIM, String.format(Locale.ROOT, "%.5f", result.bitsPerDim()));
        meta.put(CheckpointFacts.TEST_IMAGES, Integer.toString(result.images()));
        meta.put(CheckpointFacts.TEST_STEP, Long.toString(cp.step()));
        new Checkpoint(meta, cp.tensors()).write(checkpoint);
        out.println("recorded in " + checkpoint);
      }
      out.printf(Locale.ROOT, "bits/dim: %.4f (%d images)%n", result.bitsPerDim(), result.images());
    }
    return 0;
  }

  /** The image set to score, and what to close afterwards. */
  private record Opened(ImageSet set, AutoCloseable owner) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      try {
        owner.close();
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    }
  }

  private Opened open(ModelSpec m) {
    if (source != null && source.images != null) {
      PngFolder folder = PngFolder.load(source.images, m.channels(), m.size(), m.size());
      return new Opened(folder, folder);
    }
    Path data = source != null && source.data != null ? source.data : TrainCommand.defaultData(m);
    if (source == null || source.data == null) {
      // No Fashion-MNIST installed: the test split the repository ships scores as well.
      if (m.channels() == 1 && m.size() == 28 && !java.nio.file.Files.exists(data)) {
        data = Shipped.folder().resolve("fashion-mnist");
      }
    }
    if (m.channels() == 1 && m.size() == 28 && java.nio.file.Files.isDirectory(data) && Shipped.hasFashionTest(data)
        && !dev.mspx.core.data.FashionMnist.isPresent(data)) {
      ImageSet test = Shipped.fashionTest(data);
      return new Opened(test, test);
    }
    Splits splits = ImageSets.open(data, cache != null ? cache : ImageSets.defaultCacheDir(), m.channels(), m.size());
    return new Opened(splits.test(), splits);
  }
}
