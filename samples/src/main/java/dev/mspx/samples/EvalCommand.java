package dev.mspx.samples;

import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.core.Scorer;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import dev.mspx.core.data.PngFolder;
import dev.mspx.core.data.Splits;
import dev.mspx.samples.configs.ReferenceConfigs;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
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

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Checkpoint cp = Checkpoint.read(checkpoint);
    ExecutionPlan plan = ReferenceConfigs.plan(cp.get(Checkpoint.CONFIG));
    cp.checkFits(plan, checkpoint);
    ModelSpec m = plan.spec();
    try (Backend backend = backendOption.create();
        Parameters params = Parameters.initialise(plan, backend, 0);
        Opened opened = open(m);
        HostMemory host = HostMemory.create("eval");
        BufferedWriter csv = perSubpixel == null ? null : Files.newBufferedWriter(perSubpixel)) {
      cp.restore(params);
      ImageSet set = opened.set();
      int total = limit == null ? set.size() : Math.min(limit, set.size());
      boolean labelled = !plan.conditioning().isEmpty();
      if (labelled && !set.hasLabels()) {
        throw new IllegalArgumentException(checkpoint + " is a class-conditional model but " + set.describe() + " has no labels");
      }
      if (csv != null) {
        csv.write("image,channel,y,x,bits\n");
      }
      double nats = 0;
      // One runtime (arena) for all full batches; a last partial batch gets its own.
      java.util.Map<Integer, PlanRuntime> runtimes = new java.util.HashMap<>();
      try {
      for (int from = 0; from < total; from += batch) {
        int n = Math.min(batch, total - from);
        PlanRuntime rt = runtimes.computeIfAbsent(n, k -> new PlanRuntime(params, k, PlanRuntime.Mode.INFERENCE));
        try (HostTensor images = host.allocate(Shape.nchw(n, m.channels(), m.size(), m.size()), DType.UINT8, "images")) {
          int[] idx = new int[n];
          for (int i = 0; i < n; i++) {
            idx[i] = from + i;
          }
          set.gather(idx, images);
          rt.setImages(images);
          if (labelled) {
            try (HostTensor labels = host.allocate(Shape.of(n), DType.INT32, "labels")) {
              set.gatherLabels(idx, labels);
              rt.setConditioning(0, labels);
            }
          }
          int base = from;
          double[] perImage = new Scorer(rt).nats(csv == null ? null : (image, c, y, x, bits) -> {
            try {
              csv.write((base + image) + "," + c + "," + y + "," + x + "," + String.format(Locale.ROOT, "%.6f", bits) + "\n");
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
          for (double v : perImage) {
            nats += v;
          }
        }
      }
      } finally {
        runtimes.values().forEach(PlanRuntime::close);
      }
      double bits = nats / ((double) total * m.channels() * m.size() * m.size() * Math.log(2));
      out.printf(Locale.ROOT, "bits/dim: %.4f (%d images)%n", bits, total);
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
    Path data = source != null && source.data != null ? source.data : TrainCommand.defaultData(m.name().toLowerCase(Locale.ROOT));
    Splits splits = ImageSets.open(data, cache != null ? cache : ImageSets.defaultCacheDir(), m.channels(), m.size());
    return new Opened(splits.test(), splits);
  }
}
