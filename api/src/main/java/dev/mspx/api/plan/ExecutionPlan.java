package dev.mspx.api.plan;

import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a model declaration compiles into: every tensor ({@link #slots()}), the parameter table, the
 * constant masks, the steps that cut a batch into the networks' inputs ({@link #prepare()}), the
 * networks, and two arena layouts: one for a training step (forward, loss, backward: activations
 * live until their gradient is taken) and a much smaller one for inference (forward and loss only,
 * for evaluation and sampling). Backend-agnostic: a runtime binds it to a {@link dev.mspx.api.Backend}.
 *
 * @param image the input batch slot, uint8 [N, C, H, W]
 * @param conditioning the conditioning input slots, in declaration order
 */
public record ExecutionPlan(
    ModelSpec spec,
    List<Slot> slots,
    List<ParameterSpec> parameters,
    Map<Integer, MaskSpec> masks,
    int image,
    List<Integer> conditioning,
    List<Step> prepare,
    List<Network> networks,
    ArenaLayout arena,
    ArenaLayout inferenceArena) {

  public ExecutionPlan {
    slots = List.copyOf(slots);
    parameters = List.copyOf(parameters);
    masks = Map.copyOf(masks);
    conditioning = List.copyOf(conditioning);
    prepare = List.copyOf(prepare);
    networks = List.copyOf(networks);
  }

  /**
   * Assembles a plan and lays out its arenas over {@link #trainingSchedule()} and over the inference
   * schedule (prepare, then per network forward and loss), both with every network's head repeatable
   * after one trunk pass, as the sampler runs it.
   */
  public static ExecutionPlan of(
      ModelSpec spec,
      List<Slot> slots,
      List<ParameterSpec> parameters,
      Map<Integer, MaskSpec> masks,
      int image,
      List<Integer> conditioning,
      List<Step> prepare,
      List<Network> networks) {
    ArenaLayout training = layout(slots, image, conditioning, prepare, networks, true);
    ArenaLayout inference = layout(slots, image, conditioning, prepare, networks, false);
    return new ExecutionPlan(spec, slots, parameters, masks, image, conditioning, prepare, networks, training, inference);
  }

  private static ArenaLayout layout(
      List<Slot> slots, int image, List<Integer> conditioning, List<Step> prepare, List<Network> networks, boolean training) {
    int[] first = new int[slots.size()];
    int[] last = new int[slots.size()];
    Arrays.fill(first, Integer.MAX_VALUE);
    Arrays.fill(last, Integer.MIN_VALUE);
    // The caller writes the inputs before the first step.
    touch(first, last, image, -1);
    for (int c : conditioning) {
      touch(first, last, c, -1);
    }
    int i = 0;
    for (Step s : prepare) {
      i = visit(first, last, s, i);
    }
    for (Network n : networks) {
      // A sampler writes a network's inputs itself, just before its trunk: they must not share memory
      // with anything live in between.
      touch(first, last, n.own(), i);
      if (n.context() >= 0) {
        touch(first, last, n.context(), i);
      }
      for (Step s : n.trunk()) {
        i = visit(first, last, s, i);
      }
      // The head runs once per colour channel after one trunk pass (Sampler: trunk, then C heads), and
      // its first steps are the last readers of the trunk's features. Everything the head reads that
      // was written before it (trunk features, own sub-pixels, conditioning) stays live to its end, so a
      // second head pass still finds it; values made inside the head are rewritten on every pass.
      int headStart = i;
      for (Step s : n.head()) {
        i = visit(first, last, s, i);
      }
      for (Step s : n.head()) {
        for (int id : s.reads()) {
          if (first[id] < headStart) {
            touch(first, last, id, i - 1);
          }
        }
      }
      for (Step s : n.loss()) {
        i = visit(first, last, s, i);
      }
      if (training) {
        touch(first, last, n.dnll(), i); // the trainer fills it just before the backward pass
        for (Step s : n.backward()) {
          i = visit(first, last, s, i);
        }
      }
    }
    // Inputs stay valid for the whole step: a caller may set a batch once and run it repeatedly.
    touch(first, last, image, i);
    for (int c : conditioning) {
      touch(first, last, c, i);
    }
    return ArenaLayout.lay(slots, first, last);
  }

  private static int visit(int[] first, int[] last, Step s, int i) {
    for (int id : s.reads()) {
      touch(first, last, id, i);
    }
    for (int id : s.writes()) {
      touch(first, last, id, i);
    }
    return i + 1;
  }

  private static void touch(int[] first, int[] last, int id, int i) {
    first[id] = Math.min(first[id], i);
    last[id] = Math.max(last[id], i);
  }

  public Slot slot(int id) {
    return slots.get(id);
  }

  /** The steps of one training step, in order: prepare, then per network forward, loss, backward. */
  public List<Step> trainingSchedule() {
    List<Step> all = new ArrayList<>(prepare);
    for (Network n : networks) {
      all.addAll(n.forward());
      all.addAll(n.loss());
      all.addAll(n.backward());
    }
    return all;
  }

  /** Every trainable number. */
  public long parameterCount() {
    return parameters.stream().mapToLong(p -> slot(p.slot()).shape().elements()).sum();
  }

  /** Parameters not forced to zero by a mask (the peer's "effective" count). */
  public long effectiveParameterCount() {
    long n = 0;
    for (ParameterSpec p : parameters) {
      if (p.mask() < 0) {
        n += slot(p.slot()).shape().elements();
      } else {
        for (float m : masks.get(p.mask()).values()) {
          n += m != 0 ? 1 : 0;
        }
      }
    }
    return n;
  }

  /**
   * Network evaluations to sample one image: the base net once per sub-pixel of the base image, then
   * per group one trunk and C heads (DESIGN.md section 1), M²·C heads with type-B upscaling over M×M
   * patches; a raster model once per sub-pixel.
   */
  public long samplingEvaluations() {
    long c = spec.channels();
    long base = (long) spec.base() * spec.base() * c;
    long patch = spec.upscaling().map(u -> u.type() == dev.mspx.api.model.UpscaleType.B ? u.patch() : 1).orElse(1);
    return spec.kind() == ModelKind.RASTER ? base : base + 3L * spec.upscalings() * (1 + patch * patch * c);
  }

  /** A readable account of the plan: networks and their layers with shapes, counts, arena bytes. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    ModelSpec s = spec;
    b.append(String.format(Locale.ROOT, "%s plan (%s, %d channel(s), %d levels, %dx%d", s.name(),
        s.kind().name().toLowerCase(Locale.ROOT), s.channels(), s.levels(), s.size(), s.size()));
    if (s.kind() == ModelKind.MULTISCALE) {
      b.append(", base ").append(s.base()).append(", pyramid ").append(s.pyramid());
    }
    b.append(")\n");
    for (Network n : networks) {
      long params = n.parameters().stream().mapToLong(id -> slot(id).shape().elements()).sum();
      b.append(String.format(Locale.ROOT, "  network %s at %dx%d: %d parameters, %d forward steps (%d trunk), %d backward%n",
          n.name(), n.resolution(), n.resolution(), params, n.forward().size(), n.trunk().size(), n.backward().size()));
      for (Step st : n.forward()) {
        if (st instanceof Step.Conv cv) {
          Slot y = slot(cv.y());
          b.append(String.format(Locale.ROOT, "    %-44s %-16s %s%s%n", y.name(), cv.op().kernelHeight() + "x" + cv.op().kernelWidth()
              + " " + cv.op().inChannels() + "->" + cv.op().outChannels(), y.shape().with(0, 1), cv.mask() >= 0 ? " masked: " + describeMask(masks.get(cv.mask())) : ""));
        }
      }
    }
    b.append(String.format(Locale.ROOT, "  parameters: %,d stored, %,d effective (not masked out)%n", parameterCount(), effectiveParameterCount()));
    b.append(String.format(Locale.ROOT, "  arena: %,d bytes per image for training (%,d for a batch of 32), %,d for inference; %d slots%n",
        arena.bytesPerImage(), arena.bytes(32), inferenceArena.bytesPerImage(), slots.size()));
    b.append(String.format(Locale.ROOT, "  sampling: %,d network evaluations per image%n", samplingEvaluations()));
    return b.toString();
  }

  private static String describeMask(MaskSpec m) {
    return switch (m) {
      case MaskSpec.Vertical v -> "vertical " + (v.first() ? "A (rows above)" : "B (rows above and centre)");
      case MaskSpec.Horizontal h -> "horizontal " + (h.first() ? "A" : "B");
      case MaskSpec.Colour c -> "colour " + (c.strict() ? "A" : "B");
      case MaskSpec.HeadInput hi -> "head input (own channels < c)";
      case MaskSpec.Patch pm -> "patch " + pm.patch() + "x" + pm.patch() + " (earlier pixels of the patch, own channels < c)";
      case MaskSpec.Explicit e -> "explicit: " + e.description();
    };
  }
}
