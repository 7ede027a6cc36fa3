package dev.mspx.samples;

import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanProvider;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.ModelCatalog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mspx checkpoint show FILE}: what a checkpoint holds, without loading a backend. */
@Command(name = "checkpoint", description = "Inspect checkpoints, or keep what sampling and scoring need.",
    subcommands = {CheckpointCommand.Show.class, CheckpointCommand.Inference.class})
final class CheckpointCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "checkpoint needs a sub-command: show FILE, or inference FILE --out OUT");
  }

  @Command(name = "show", description = "Print a checkpoint's model, kind, step, seed, data, test bits/dim (when recorded) and size.")
  static final class Show implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "A checkpoint.arrow (mspx train) or an inference checkpoint (Model.save).")
    Path file;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      Checkpoint cp = Checkpoint.read(file);
      Map<String, String> m = cp.metadata();
      row(out, "file", file + String.format(Locale.ROOT, " (%.1f MB)", Files.size(file) / 1e6));
      row(out, "kind", cp.isTraining() ? "training (parameters, Adam's moments, data position: --resume continues it)"
          : "inference (parameters only: eval, sample, upscale)");
      Optional<PlanProvider> provider = ModelCatalog.load().find(cp.modelName());
      String model = cp.modelName() + " (declared as " + m.getOrDefault(Checkpoint.MODEL, "?") + ")";
      int crop = ModelFiles.crop(cp);
      if (provider.isEmpty()) {
        model += ": not on the class path (MSPX_CLASSPATH=its jar)";
      } else {
        var s = provider.get().spec();
        model += ", " + s.channels() + "×" + s.size() + "×" + s.size();
      }
      row(out, "model", model);
      if (crop > 0) {
        row(out, "crops", crop + "×" + crop + " (mspx train --crop " + crop + "); used at other sizes stage by stage from the top");
      }
      String fingerprint = m.getOrDefault(Checkpoint.FINGERPRINT, "?");
      if (provider.isPresent()) {
        ExecutionPlan plan = crop > 0 ? ModelFiles.trainedPlan(cp, file) : provider.get().plan();
        boolean fits = plan.spec().fingerprint().equals(fingerprint);
        fingerprint += fits ? " (matches the compiled model)" : " (does NOT match the compiled model " + plan.spec().fingerprint()
            + ": the declaration changed since; this checkpoint cannot be loaded)";
        long parameters = plan.parameters().stream().mapToLong(p -> cp.tensors().containsKey(p.name()) ? cp.tensors().get(p.name()).length : 0).sum();
        row(out, "parameters", String.format(Locale.ROOT, "%,d", parameters));
      }
      row(out, "fingerprint", fingerprint);
      row(out, "step", Long.toString(cp.step()));
      if (m.containsKey(Checkpoint.SEED)) {
        row(out, "seed", m.get(Checkpoint.SEED));
      }
      if (m.containsKey(Checkpoint.BATCH)) {
        row(out, "batch", m.get(Checkpoint.BATCH) + ", Adam lr " + m.getOrDefault(Checkpoint.LEARNING_RATE, "?")
            + ", clip " + m.getOrDefault(Checkpoint.CLIP, "0") + (m.containsKey(Checkpoint.EPOCH) ? ", epoch " + m.get(Checkpoint.EPOCH) : ""));
      }
      row(out, "data", m.getOrDefault(CheckpointFacts.DATA, "(not recorded)"));
      if (m.containsKey(CheckpointFacts.TEST_BITS_PER_DIM)) {
        row(out, "bits/dim", m.get(CheckpointFacts.TEST_BITS_PER_DIM) + " on " + m.getOrDefault(CheckpointFacts.TEST_IMAGES, "?")
            + " test images at step " + m.getOrDefault(CheckpointFacts.TEST_STEP, "?"));
      } else {
        row(out, "bits/dim", "(not recorded: mspx eval --checkpoint " + file + ")");
      }
      if (m.containsKey(CheckpointFacts.CLASS_NAMES)) {
        row(out, "classes", m.get(CheckpointFacts.CLASS_NAMES).replace(",", ", "));
      }
      if (m.containsKey(CheckpointFacts.TRAINING_SECONDS)) {
        row(out, "trained", m.get(CheckpointFacts.TRAINING_SECONDS) + " s of wall time");
      }
      out.flush();
      return 0;
    }

    private static void row(PrintWriter out, String key, String value) {
      out.printf(Locale.ROOT, "%-12s %s%n", key, value);
    }
  }

  /**
   * {@code mspx checkpoint inference FILE --out OUT}: the parameters of a training checkpoint with its
   * record (model, fingerprint, step, seed, data, test bits/dim, class names, crop), without Adam's
   * moments and the data position: about a third of the size; it samples and scores, and cannot resume.
   */
  @Command(name = "inference", description = "Write the parameters-only checkpoint of FILE (no optimiser state): about a third of the size.")
  static final class Inference implements Callable<Integer> {

    /** Training entries left out: they only mean something with the optimiser state. */
    private static final java.util.Set<String> TRAINING_ONLY = java.util.Set.of(Checkpoint.EPOCH, Checkpoint.BATCH_IN_EPOCH, Checkpoint.KIND);

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "A checkpoint.arrow written by mspx train.")
    Path file;

    @picocli.CommandLine.Option(names = "--out", required = true, description = "The inference checkpoint to write.")
    Path out;

    @Override
    public Integer call() throws IOException {
      if (Files.isDirectory(out)) {
        throw new IllegalArgumentException("--out " + out + " is a folder: give a file name, e.g. " + out.resolve("model.arrow"));
      }
      if (out.toAbsolutePath().normalize().equals(file.toAbsolutePath().normalize())) {
        throw new UsageException("--out is FILE itself: give another name, so that the training checkpoint is kept");
      }
      Images.checkWritableFolder(out.toAbsolutePath().getParent(), "--out " + out);
      Checkpoint cp = Checkpoint.read(file);
      ExecutionPlan trained = ModelFiles.trainedPlan(cp, file);
      ExecutionPlan plan = trained != null ? trained : ModelCatalog.load().plan(cp.modelName());
      cp.checkFits(plan, file);
      java.util.Map<String, float[]> tensors = new java.util.LinkedHashMap<>();
      plan.parameters().forEach(p -> tensors.put(p.name(), cp.tensors().get(p.name())));
      java.util.Map<String, String> meta = new java.util.HashMap<>(cp.metadata());
      meta.keySet().removeAll(TRAINING_ONLY);
      meta.put(Checkpoint.KIND, Checkpoint.INFERENCE);
      new Checkpoint(meta, tensors).write(out);
      PrintWriter printer = spec.commandLine().getOut();
      printer.printf(Locale.ROOT, "wrote %s (%.1f MB; %s was %.1f MB)%n", out, Files.size(out) / 1e6, file, Files.size(file) / 1e6);
      printer.flush();
      return 0;
    }
  }
}
