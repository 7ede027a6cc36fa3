package dev.mspx.samples;

import dev.mspx.core.Model;
import dev.mspx.core.export.PeerExport;
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

/**
 * {@code mspx export}: a checkpoint's parameters, masks and spec as an {@code .npz} (numpy), which the
 * PyTorch peer scores with {@code torch_mspx.py score --export FILE} ({@link PeerExport} has the layout).
 */
@Command(
    name = "export",
    description = "Write a checkpoint's weights, masks and spec as an .npz for numpy and the PyTorch peer"
        + " (bench/peer/torch_mspx.py score --export FILE --images IMAGES.npy).")
final class ExportCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "A checkpoint.arrow written by mspx train.")
  Path checkpoint;

  @Option(names = "--out", required = true, description = "The .npz file to write.")
  Path out;

  @Mixin BackendOption backendOption;

  @Override
  public Integer call() throws IOException {
    if (!out.getFileName().toString().endsWith(".npz")) {
      throw new IllegalArgumentException("--out " + out + ": name the file FILE.npz (numpy loads it by that suffix)");
    }
    PrintWriter printer = spec.commandLine().getOut();
    try (Model model = Model.load(checkpoint, backendOption.module())) {
      PeerExport.write(model, out);
      printer.printf(Locale.ROOT, "wrote %s: %s (%d parameter tensors, %,d numbers, step %d)%n", out, model.name(),
          model.plan().parameters().size(), model.plan().parameterCount(), model.step());
    }
    return 0;
  }
}
