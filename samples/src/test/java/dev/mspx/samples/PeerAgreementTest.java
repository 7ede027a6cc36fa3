package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Init;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.backend.cpu.CpuVectorBackend;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import dev.mspx.core.Progress;
import dev.mspx.core.data.ImageSet;
import dev.mspx.core.data.ImageSets;
import dev.mspx.core.export.Npz;
import dev.mspx.core.export.PeerExport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same weights score the same in PyTorch: every reference configuration, with random weights of
 * twice the initialiser's gain (class tables random too, so that conditioning matters), is exported
 * ({@link PeerExport}) and scored by the peer ({@code bench/peer/torch_mspx.py score}, float64), and
 * the bits/dim of every image must equal ours (float32, {@code CpuVectorBackend}) within {@value #TOLERANCE}.
 * The peer builds its own model from the exported spec, with its own masks, layouts and loss; it
 * also compares every mask of ours with its own, element for element, and maps every parameter name
 * exactly once. Images: a uniformly random one (every logit matters), a smooth gradient and a flat
 * grey one (confident predictions), so the terms span both ends of the scale.
 *
 * <p>Runs where {@code /usr/bin/python3} (or {@code $MSPX_PYTHON}) imports torch and numpy; skipped,
 * with the reason, elsewhere. {@code speed512} is scored on its 64×64 pyramid prefix ({@link #cropped}),
 * or at its full 512×512 with {@code -Dmspx.peer.full512=true}.
 */
class PeerAgreementTest {

  /** Bits/dim per image, ours against the peer's: the bound. */
  static final double TOLERANCE = 1e-4;

  /** The side speed512 is cropped to by default (its 8×8 base and three upscalings). */
  static final int CROP = 64;

  /** System property that scores speed512 at its full 512×512 instead. */
  static final String FULL_512 = "mspx.peer.full512";

  private static String python;
  private static Path peer;

  @BeforeAll
  static void findPeer() throws Exception {
    python = System.getenv().getOrDefault("MSPX_PYTHON", "/usr/bin/python3");
    peer = locatePeer();
    String why = torchMissing(python);
    Assumptions.assumeTrue(why == null, why);
  }

  /** bench/peer/torch_mspx.py, looked for from the working directory upwards (surefire runs in samples/). */
  static Path locatePeer() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("bench/peer/torch_mspx.py");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("bench/peer/torch_mspx.py not found above " + Path.of("").toAbsolutePath());
  }

  /** Null when {@code python} imports torch and numpy; otherwise why not, for the skip message. */
  static String torchMissing(String python) {
    try {
      Process p = new ProcessBuilder(python, "-c", "import torch, numpy").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return python + " did not import torch within 120 s";
      }
      return p.exitValue() == 0 ? null
          : python + " cannot import torch and numpy (" + last(out) + "): the PyTorch agreement needs them (set MSPX_PYTHON to another interpreter)";
    } catch (IOException e) {
      return "no Python at " + python + " (" + e.getMessage() + "): the PyTorch agreement needs python3 with torch (set MSPX_PYTHON)";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static String last(String text) {
    String[] lines = text.split("\n");
    return lines[lines.length - 1];
  }

  @ParameterizedTest
  @ValueSource(strings = {"fashion28", "fashion28-labelled", "fashion28-raster", "photo32", "photo32-raster", "speed512", "photo32-type-b"})
  void theSameWeightsScoreTheSameInPyTorch(String config, @TempDir Path dir) throws Exception {
    BackendModule module = BackendModule.of("cpu-vector", () -> new CpuVectorBackend("cpu-vector", 2));
    boolean crop = config.equals("speed512") && !Boolean.getBoolean(FULL_512);
    try (Model model = crop ? cropped(config, CROP, module) : Model.create(config, module, 11)) {
      ModelSpec spec = model.spec();
      if (!crop) {
        randomise(model, 2.0, 5);
      }
      int count = spec.size() > CROP ? 1 : 3;
      byte[] images = images(spec, count);
      int classes = spec.conditioning().isEmpty() ? 0 : spec.conditioning().get(0).width();
      int[] labels = classes == 0 ? null : new int[] {0, classes / 2, classes - 1};
      double[] ours = ourBitsPerDim(model, images, labels, count);

      Path export = dir.resolve(config + ".npz");
      PeerExport.write(model, export);
      Path imageFile = dir.resolve("images.npy");
      Files.write(imageFile, Npz.npy(Npz.Array.ofBytes(images, count, spec.channels(), spec.size(), spec.size())));
      List<String> command = new ArrayList<>(List.of(python, peer.toString(), "score", "--export", export.toString(),
          "--images", imageFile.toString(), "--threads", "2", "--batch", "1"));
      if (labels != null) {
        Path labelFile = dir.resolve("labels.npy");
        long[] l = new long[count];
        for (int i = 0; i < count; i++) {
          l[i] = labels[i];
        }
        Files.write(labelFile, Npz.npy(Npz.Array.ofLongs(l, count)));
        command.addAll(List.of("--labels", labelFile.toString()));
      }
      String json = run(command);

      assertEquals("true", value(json, "masks_equal"), config + ": the peer's masks differ from ours: " + json);
      if (crop) {
        assertEquals("{\"size\": [" + CROP + ", 512]}", object(json, "config_differs"), config + ": the crop differs from the peer's config in more than its size: " + json);
      } else if (config.equals("photo32-type-b")) {
        // Not a reference configuration of the peer's: it builds it from the exported spec alone.
        assertEquals("null", value(json, "config_matches"), json);
      } else {
        assertEquals("true", value(json, "config_matches"), config + ": the exported spec is not the peer's reference config: " + json);
      }
      assertEquals(Integer.toString(model.plan().parameters().size()), value(json, "parameters_loaded"), config + ": " + json);
      double[] theirs = numbers(json, "bits_per_dim");
      assertEquals(count, theirs.length, json);
      for (int i = 0; i < count; i++) {
        assertEquals(theirs[i], ours[i], TOLERANCE, config + ": bits/dim of image " + i + ", mspx " + ours[i] + " vs PyTorch " + theirs[i]);
      }
      System.out.printf("%s: bits/dim mspx %s, PyTorch %s, largest difference %.2e%n", config,
          java.util.Arrays.toString(ours), java.util.Arrays.toString(theirs), maxDiff(ours, theirs));
    }
  }

  /**
   * {@code config}'s model cut to the {@code size} prefix of its pyramid (its base net and first
   * upscalings: every network as in the config), with the random weights {@link #randomise} gives the
   * whole model. A full 512×512 speed512 image takes minutes on both sides of a shared 2-core machine
   * (measured: 200 s for one image, difference 1.1e-8 bits/dim); {@code -Dmspx.peer.full512=true} runs it.
   */
  static Model cropped(String config, int size, BackendModule module) {
    try (Model full = Model.create(config, module, 11)) {
      randomise(full, 2.0, 5);
      ModelSpec spec = dev.mspx.api.model.ImmutableModelSpec.builder().from(full.spec()).size(size).build();
      Model crop = Model.create(dev.mspx.api.plan.PlanBuilder.build(spec), module, 0);
      try {
        for (ParameterSpec p : crop.plan().parameters()) {
          crop.parameters().write(p.name(), full.parameters().read(p.name()));
        }
        return crop;
      } catch (RuntimeException e) {
        crop.close();
        throw e;
      }
    }
  }

  /** Every parameter U(±gain·bound); conditioning tables (zero at initialisation) U(±0.5·gain). */
  static void randomise(Model model, double gain, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    ExecutionPlan plan = model.plan();
    for (ParameterSpec p : plan.parameters()) {
      float[] v = new float[Math.toIntExact(plan.slot(p.slot()).shape().elements())];
      double bound = gain * (p.init() instanceof Init.Uniform u ? u.bound() : 0.5);
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
      }
      model.parameters().write(p.name(), v);
    }
  }

  /** A uniformly random image, a smooth diagonal gradient and a flat mid-grey one (as many as asked). */
  static byte[] images(ModelSpec spec, int count) {
    int c = spec.channels(), h = spec.size(), per = c * h * h, top = spec.levels() - 1;
    byte[] out = new byte[count * per];
    SplittableRandom r = new SplittableRandom(3);
    for (int b = 0; b < count; b++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < h; x++) {
            int v = switch (b % 3) {
              case 0 -> r.nextInt(spec.levels());
              case 1 -> (x + y + 7 * ch) * top / (2 * h + 14);
              default -> top / 2;
            };
            out[b * per + (ch * h + y) * h + x] = (byte) v;
          }
        }
      }
    }
    return out;
  }

  static double[] ourBitsPerDim(Model model, byte[] images, int[] labels, int count) {
    ModelSpec spec = model.spec();
    double[] nats = new double[count];
    try (ImageSet set = ImageSets.fromBytes(spec.channels(), spec.size(), spec.size(), images, labels,
        labels == null ? 0 : spec.conditioning().get(0).width(), "peer agreement")) {
      model.evaluate(set, count, 1, (image, c, y, x, bits) -> nats[image] += bits * Math.log(2), Progress.NONE);
    }
    double[] bpd = new double[count];
    for (int i = 0; i < count; i++) {
      bpd[i] = spec.bitsPerDim(nats[i], 1);
    }
    return bpd;
  }

  /** Runs the peer; its last line of standard output is its JSON. */
  static String run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
    byte[][] err = new byte[1][];
    Thread drain = Thread.ofVirtual().start(() -> {
      try {
        err[0] = p.getErrorStream().readAllBytes();
      } catch (IOException e) {
        err[0] = e.toString().getBytes(StandardCharsets.UTF_8);
      }
    });
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(600, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("the peer ran past 600 s: " + command);
    }
    drain.join();
    String stderr = new String(err[0], StandardCharsets.UTF_8);
    assertTrue(p.exitValue() == 0, "the peer failed (exit " + p.exitValue() + "): " + String.join(" ", command) + "\n" + stderr + out);
    return last(out.strip());
  }

  static String value(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*(true|false|null|-?[0-9.eE+-]+|\"[^\"]*\")").matcher(json);
    if (!m.find()) {
      throw new AssertionError("no " + key + " in the peer's output: " + json);
    }
    return m.group(1);
  }

  static String object(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*(\\{[^}]*\\})").matcher(json);
    if (!m.find()) {
      throw new AssertionError("no object " + key + " in the peer's output: " + json);
    }
    return m.group(1);
  }

  static double[] numbers(String json, String key) {
    Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\":\\s*\\[([^\\]]*)\\]").matcher(json);
    if (!m.find()) {
      throw new AssertionError("no list " + key + " in the peer's output: " + json);
    }
    return java.util.Arrays.stream(m.group(1).split(",")).map(String::strip).filter(s -> !s.isEmpty()).mapToDouble(Double::parseDouble).toArray();
  }

  private static double maxDiff(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }
}
