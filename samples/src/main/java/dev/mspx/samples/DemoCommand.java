package dev.mspx.samples;

import dev.mspx.api.Backend;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Checkpoint;
import dev.mspx.core.Conditions;
import dev.mspx.core.Model;
import dev.mspx.core.ModelCatalog;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.core.Sampler;
import dev.mspx.core.data.ImageSet;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code mspx demo}: the main job. Loads the shipped model, draws a grid of samples with the scale
 * pyramid beside each (7×7 → 14×14 → 28×28, as the paper's Figure 1) into {@code demo/samples.png},
 * scores the shipped Fashion-MNIST test images, and times sampling one image with the multiscale model
 * against the raster PixelCNN of the same width. Offline, nothing to install.
 */
@Command(name = "demo", description = {
    "The shipped model: samples with their scale pyramids (demo/samples.png), test bits/dim,",
    "and the time to sample one image, multiscale against raster."})
final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--checkpoint", description = "The model (default: samples/shipped/" + Shipped.MODEL + ").")
  Path checkpoint;

  @Option(names = "--out", defaultValue = "demo/samples.png", description = "The picture (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--per-class", defaultValue = "2", description = "Samples per class, or per row for an unconditional model (default: ${DEFAULT-VALUE}).")
  int perClass;

  @Option(names = "--limit", defaultValue = "2000", description = "Test images scored (default: ${DEFAULT-VALUE}; 10000: the whole test split, about a minute).")
  int limit;

  @Option(names = "--raster-seconds", defaultValue = "3", description = "Seconds the raster model is timed for before its time is extrapolated (default: ${DEFAULT-VALUE}).")
  double rasterSeconds;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the draws (default: ${DEFAULT-VALUE}).")
  long seed;

  @Mixin BackendOption backendOption;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    UsageException.atLeast("--per-class", perClass, 1);
    UsageException.atLeast("--limit", limit, 1);
    UsageException.positive("--raster-seconds", rasterSeconds);
    Images.checkOutput(this.out, "--out");
    Path file = checkpoint != null ? checkpoint : Shipped.model();
    Checkpoint cp = Checkpoint.read(file);
    BackendModule module = backendOption.module();
    try (Model model = ModelFiles.load(file, module); HostMemory host = HostMemory.create("demo")) {
      ModelSpec m = model.spec();
      out.printf(Locale.ROOT, "model %s (%,d parameters, trained %d steps), backend %s%n", model.name(), model.plan().parameterCount(),
          model.step(), model.backend().name());
      out.flush();

      // 1. Samples with their pyramids.
      boolean conditional = !m.conditioning().isEmpty();
      int rows = conditional ? m.conditioning().get(0).width() : 5;
      int count = rows * perClass;
      int[] labels = new int[count];
      for (int i = 0; i < count; i++) {
        labels[i] = i / perClass;
      }
      Conditions conditions = conditional ? Conditions.classLabels(labels) : Conditions.none();
      try (Model.Samples samples = model.sample(count, seed, Sampler.RasterMode.CACHED, conditions, model.defaultBatch(count), host, (d, t) -> {})) {
        List<String> names = conditional ? CheckpointFacts.classNames(cp.metadata(), rows) : null;
        Images.write(pyramids(samples.images(), m, rows, perClass, names), this.out);
        out.printf(Locale.ROOT, "%d samples with their pyramids %s in %.2f s: wrote %s%n", count,
            String.join(" → ", m.pyramid().stream().map(r -> r + "×" + r).toList()), samples.seconds(), this.out);
        out.flush();
      }

      // 2. Test bits/dim on the shipped test images.
      if (m.channels() == 1 && m.size() == 28) {
        try (ImageSet test = Shipped.fashionTest()) {
          int n = Math.min(limit, test.size());
          Model.Evaluation e = model.evaluate(test, n, Math.min(64, model.defaultBatch(n)), null, (d, t) -> {});
          out.printf(Locale.ROOT, "test bits/dim: %.4f on the first %,d of %,d Fashion-MNIST test images%s%n", e.bitsPerDim(), e.images(), test.size(),
              n < test.size() ? " (--limit " + test.size() + " for all)" : "");
          out.flush();
        }
      }

      // 3. One image, multiscale against raster.
      if (m.kind() == ModelKind.MULTISCALE) {
        timing(model, module, out);
      }
    }
    return 0;
  }

  /** Time to sample one image with the model, and with the raster PixelCNN of the same width (extrapolated past the budget). */
  private void timing(Model model, BackendModule module, PrintWriter out) {
    ModelSpec m = model.spec();
    double multiscale;
    long evaluations;
    try (HostMemory host = HostMemory.create("demo.timing");
        PlanRuntime rt = new PlanRuntime(model.parameters(), 1, PlanRuntime.Mode.INFERENCE)) {
      feedFirstClass(model, rt, host);
      try (Sampler warm = new Sampler(rt, Sampler.RasterMode.FULL); HostTensor ignored = warm.sample(seed + 1, host)) {
        // untimed: the JIT compiles the kernels for these shapes first
      }
      try (Sampler sampler = new Sampler(rt, Sampler.RasterMode.FULL)) {
        long t0 = System.nanoTime();
        try (HostTensor ignored = sampler.sample(seed, host)) {
          multiscale = (System.nanoTime() - t0) / 1e9;
        }
        evaluations = sampler.evaluations();
      }
    }
    ModelSpec raster = rasterCounterpart(model.name(), m);
    ExecutionPlan plan = dev.mspx.api.plan.PlanBuilder.build(raster);
    long rasterEvaluations = (long) m.channels() * m.size() * m.size();
    double perEvaluation;
    long timed = 0;
    try (Backend backend = module.create();
        Parameters p = Parameters.initialise(plan, backend, seed);
        PlanRuntime rt = new PlanRuntime(p, 1, PlanRuntime.Mode.INFERENCE)) {
      // The raster model's weights do not change its time: it is untrained here, timed only.
      Network net = plan.networks().get(0);
      rt.run(net.head());
      long t0 = System.nanoTime();
      while (timed < rasterEvaluations && (System.nanoTime() - t0) / 1e9 < rasterSeconds) {
        rt.run(net.head());
        timed++;
      }
      perEvaluation = (System.nanoTime() - t0) / 1e9 / timed;
    }
    double rasterTime = perEvaluation * rasterEvaluations;
    out.printf(Locale.ROOT, "sampling one %d×%d image: multiscale %.2f s (%d network evaluations); raster PixelCNN (%d gated layers, %d filters) %.1f s"
        + " (%,d evaluations%s): %.0f× faster%n", m.size(), m.size(), multiscale, evaluations, raster.gated().layers(), raster.gated().filters(), rasterTime,
        rasterEvaluations, timed < rasterEvaluations ? String.format(Locale.ROOT, ", %d timed, the rest extrapolated", timed) : "", rasterTime / multiscale);
    out.flush();
  }

  private static void feedFirstClass(Model model, PlanRuntime rt, HostMemory host) {
    if (!model.spec().conditioning().isEmpty()) {
      try (HostTensor label = host.allocate(dev.mspx.api.Shape.of(1), dev.mspx.api.DType.INT32, "label")) {
        label.setInt(0, 0);
        rt.setConditioning(0, label);
      }
    }
  }

  /** The raster model to compare with: NAME-raster when compiled (fashion28-raster), else a gated PixelCNN of twice the layers. */
  static ModelSpec rasterCounterpart(String name, ModelSpec multiscale) {
    String base = name.endsWith("-labelled") ? name.substring(0, name.length() - "-labelled".length()) : name;
    return ModelCatalog.load().find(base + "-raster").map(p -> p.spec())
        .orElseGet(() -> BenchCommand.Sampling.rasterCounterpart(name, multiscale));
  }

  /**
   * Rows of samples (one row per class for a class-conditional model), each sample as its pyramid:
   * the image at every scale of the model, x[::S/r, ::S/r] (what the model had drawn when it reached
   * scale r), each shown at the same size.
   */
  static BufferedImage pyramids(HostTensor images, ModelSpec m, int rows, int perRow, List<String> rowNames) {
    List<Integer> pyramid = m.pyramid();
    int s = m.size(), scale = Math.max(1, (int) Math.ceil(84.0 / s)), side = s * scale;
    int gap = 4, stageGap = 2, sampleGap = 16, label = rowNames == null ? 0 : 96, header = 20;
    int sampleWidth = pyramid.size() * side + (pyramid.size() - 1) * stageGap;
    BufferedImage out = Images.canvas(label + perRow * sampleWidth + (perRow - 1) * sampleGap + 2 * gap, header + rows * (side + gap) + gap);
    Graphics2D g = out.createGraphics();
    for (int k = 0; k < perRow; k++) {
      for (int p = 0; p < pyramid.size(); p++) {
        int r = pyramid.get(p);
        Images.text(g, r + "×" + r + (p + 1 < pyramid.size() ? "  →" : ""), gap + label + k * (sampleWidth + sampleGap) + p * (side + stageGap), 14, 12, side);
      }
    }
    int c = m.channels();
    for (int row = 0; row < rows; row++) {
      int y0 = header + row * (side + gap);
      if (rowNames != null) {
        Images.text(g, rowNames.get(row), gap, y0 + side / 2 + 4, 12, label - 2 * gap);
      }
      for (int k = 0; k < perRow; k++) {
        int i = row * perRow + k;
        byte[] full = new byte[c * s * s];
        images.segment().asSlice((long) i * full.length, full.length).asByteBuffer().get(full);
        for (int p = 0; p < pyramid.size(); p++) {
          int r = pyramid.get(p), step = s / r;
          byte[] sub = new byte[c * r * r];
          for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < r; y++) {
              for (int x = 0; x < r; x++) {
                sub[(ch * r + y) * r + x] = full[(ch * s + y * step) * s + x * step];
              }
            }
          }
          BufferedImage picture = Images.picture(sub, c, r, r, m.levels(), side / r);
          g.drawImage(picture, gap + label + k * (sampleWidth + sampleGap) + p * (side + stageGap), y0, null);
        }
      }
    }
    g.dispose();
    return out;
  }
}
