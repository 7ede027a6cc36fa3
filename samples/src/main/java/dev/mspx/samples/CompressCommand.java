package dev.mspx.samples;

import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.Sampler;
import dev.mspx.core.codec.ImageCodec;
import dev.mspx.core.data.PngFolder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx compress}: the PNGs of a folder, losslessly, into one file coded with a model's
 * probabilities ({@link ImageCodec}); {@code mspx decompress} gives them back bit for bit.
 */
@Command(
    name = "compress",
    description = "Losslessly compress the PNGs of a folder with a model (range coding with its probabilities);"
        + " mspx decompress restores them. Decoding needs the same checkpoint and backend kernels.")
final class CompressCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "The checkpoint of an unconditional model (mspx train wrote it).")
  Path checkpoint;

  @Option(names = "--in", required = true, description = "A folder of PNG images of the model's size and channels.")
  Path in;

  @Option(names = "--out", required = true, description = "The compressed file to write.")
  Path out;

  @Option(names = "--batch", description = "Images coded together; the decoder uses the same (default: up to 32, as memory allows).")
  Integer batch;

  @Option(names = "--raster", defaultValue = "cached", description = "How the base net's raster loop runs: cached (fast) or full (every logit from the backend). Default: ${DEFAULT-VALUE}.")
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
    if (batch != null && batch < 1) {
      throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
    }
    try (Model model = Model.load(checkpoint, backendOption.module())) {
      ImageCodec.Images images = read(in, model);
      ImageCodec.Settings settings = new ImageCodec.Settings(batch != null ? batch : model.defaultBatch(Math.min(32, images.count())), mode);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      ImageCodec.Report report = ImageCodec.compress(model, images, settings, bytes, Progress.NONE);
      writeAtomically(out, bytes.toByteArray());
      printer.printf(Locale.ROOT, "compressed %d images from %s into %s: %,d bytes, %.1f bytes per image, %.4f bits/dim"
              + " (the model: %.4f bits/dim, +%.2f%%) in %.1f s (%.1f ms per image)%n",
          report.images(), in, out, report.bytes(), report.bytes() / (double) report.images(), report.bitsPerDim(),
          report.modelBitsPerDim(), 100 * (report.bitsPerDim() / report.modelBitsPerDim() - 1), report.seconds(),
          1000 * report.seconds() / report.images());
    }
    return 0;
  }

  /** The PNGs of {@code folder} as the codec's images, with their file names. */
  static ImageCodec.Images read(Path folder, Model model) {
    var m = model.spec();
    try (PngFolder pngs = PngFolder.load(folder, m.channels(), m.size(), m.size());
        HostMemory host = HostMemory.create("compress");
        HostTensor view = pngs.view(0, pngs.size(), host)) {
      List<String> names = pngs.files().stream().map(p -> p.getFileName().toString()).toList();
      return new ImageCodec.Images(pngs.size(), m.channels(), m.size(), m.size(), view.toByteArray(), names);
    }
  }

  static void writeAtomically(Path file, byte[] bytes) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp");
    try {
      Files.write(tmp, bytes);
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
