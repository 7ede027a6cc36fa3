package dev.mspx.samples;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
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
@Command(name = "eval", description = "Exact test bits/dim of a checkpoint. Last line: bits/dim: X.XXXX (N images).")
final class EvalCommand implements Callable<Integer> {

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

  @Option(names = "--per-subpixel", description = "Write image,channel,y,x,bits (one row per sub-pixel) to this CSV.")
  Path perSubpixel;

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
    if (limit != null && limit < 1) {
      throw new IllegalArgumentException("--limit must be at least 1, got " + limit);
    }
    try (Model model = Model.load(checkpoint, backendOption.module());
        Opened opened = open(model.spec());
        BufferedWriter csv = perSubpixel == null ? null : Files.newBufferedWriter(perSubpixel)) {
      if (csv != null) {
        csv.write("image,channel,y,x,bits\n");
      }
      Scorer.SubpixelSink sink = csv == null ? null : (image, c, y, x, bits) -> {
        try {
          csv.write(image + "," + c + "," + y + "," + x + "," + String.format(Locale.ROOT, "%.6f", bits) + "\n");
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      };
      ImageSet set = opened.set();
      Model.Evaluation result = model.evaluate(set, limit == null ? set.size() : limit, batch, sink, Progress.NONE);
      out.printf(Locale.ROOT, "bits/dim: %.4f (%d images)%n", result.bitsPerDim(), result.images());
    } catch (UncheckedIOException e) {
      throw e.getCause();
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
    Splits splits = ImageSets.open(data, cache != null ? cache : ImageSets.defaultCacheDir(), m.channels(), m.size());
    return new Opened(splits.test(), splits);
  }
}
