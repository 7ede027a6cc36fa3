package dev.mspx.testing.masking;

import dev.mspx.api.Backend;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.Step;
import dev.mspx.core.GenerationOrder;
import dev.mspx.testing.Tolerances;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The masking invariants of DESIGN.md section 5 as checks on one {@link MaskingCase} each, run on the
 * backend under test. Each returns quietly or throws {@link AssertionError} with a message that names
 * the property, the plan, the sub-pixels involved and what moved, so that any framework (or a plain
 * loop) can drive them; the kit's tests drive them with QuickTheories through {@link
 * dev.mspx.testing.gen.QuickTheoriesGens}.
 *
 * <ul>
 *   <li>{@link #causality}: perturbing every sub-pixel at step {@code >= q} of the generation order
 *       leaves the logits of every sub-pixel at step {@code <= q} bit-identical.
 *   <li>{@link #noBlindSpot}: every earlier sub-pixel inside the {@link ReceptiveField} of p moves
 *       p's logits, and no earlier sub-pixel outside it does.
 *   <li>{@link #generationOrder}: for a sub-pixel of group g of a multiscale model, exactly the
 *       earlier groups within reach and its own channels {@code < c} move its logits: not its group's
 *       other pixels, not the later groups, not the finer scales.
 *   <li>{@link #normalisation}: the probabilities of all images sum to 1 within 1e-4.
 *   <li>{@link #agreement}: every step of the plan on the backend under test agrees with the reference
 *       backend within {@link Tolerances}, forward and backward.
 * </ul>
 *
 * <p><b>Bit identity.</b> A perturbed image and the original are compared at the same position of
 * batches of the same size ({@link PlanProbe}), so they meet the same kernels with the same layout; a
 * changed bit is then a real dependence, never rounding. That makes "moved" in the receptive-field
 * properties a test with no false positives.
 *
 * <p><b>No blind spot without dead units.</b> A ReLU that is off for the image at hand cuts every path
 * through it, for that image only: that is a property of the weights, not of the masks. The two
 * receptive-field properties therefore run the plan {@linkplain #withReluAsIdentity with its ReLUs as
 * identities} (every mask, convolution, gate and connection unchanged), on weights of gain {@value
 * #RECEPTIVE_FIELD_GAIN} times the initialiser's bound. The gated layers' {@code tanh·σ} has a
 * non-zero derivative everywhere, so the logits are then an analytic function of every input inside
 * the receptive field with non-zero partial derivatives for all but a null set of weights. A
 * dependence is missed only if it is below float32 resolution: each earlier sub-pixel is set to the
 * level farthest from its own (a change of at least half the input range), and if the logits do not
 * move, to a second level; {@link #stats()} records the weakest change seen, in units in the last
 * place of the logit, so a run shows the margin (see the module README).
 */
public final class MaskingProperties {

  /** Weight gain of the receptive-field properties (times the initialiser's 1/√fan_in). */
  public static final double RECEPTIVE_FIELD_GAIN = 2.0;

  /** Weight gain of causality (any gain would do). */
  public static final double CAUSALITY_GAIN = 1.0;

  /**
   * Weight gain of normalisation: as the peer's {@code reinit_for_checks}, far from uniform, so that a
   * leak moves the total by much more than 1e-4.
   */
  public static final double NORMALISATION_GAIN = 4.0;

  /** The normalisation bound on {@code |Σ p(x) - 1|}. */
  public static final double NORMALISATION_TOLERANCE = 1e-4;

  private final Supplier<? extends Backend> backend;
  private final int stepsPerCase;
  private final int candidateLimit;
  private final Stats stats = new Stats();

  /** Properties run on fresh backends from {@code backend} (one per check, closed after it). */
  public MaskingProperties(Supplier<? extends Backend> backend) {
    this(backend, 4, Integer.MAX_VALUE);
  }

  /**
   * As above, testing {@code stepsPerCase} steps q per causality case (the case's and random ones), and
   * at most {@code candidateLimit} sub-pixels q per receptive-field case (a random subset drawn from
   * the case's perturbation seed; all of them by default). Limit both for wide nets on slow backends.
   */
  public MaskingProperties(Supplier<? extends Backend> backend, int stepsPerCase, int candidateLimit) {
    if (stepsPerCase < 1 || candidateLimit < 1) {
      throw new IllegalArgumentException("stepsPerCase and candidateLimit must be at least 1, got " + stepsPerCase + ", " + candidateLimit);
    }
    this.backend = backend;
    this.stepsPerCase = stepsPerCase;
    this.candidateLimit = candidateLimit;
  }

  /** What the receptive-field properties saw so far. */
  public Stats stats() {
    return stats;
  }

  /** Counts over the receptive-field checks of one {@link MaskingProperties}. */
  public static final class Stats {
    private long pairs;
    private long inField;
    private long secondTries;
    private double weakestUlps = Double.POSITIVE_INFINITY;

    /** (p, q) pairs checked. */
    public synchronized long pairs() {
      return pairs;
    }

    /** Pairs with q inside p's receptive field. */
    public synchronized long inField() {
      return inField;
    }

    /** Pairs inside the field whose first perturbation left the logits unchanged. */
    public synchronized long secondTries() {
      return secondTries;
    }

    /**
     * The smallest change of p's logits caused by a q inside the field (first perturbation), as the
     * largest change over p's L logits in units in the last place of that logit.
     */
    public synchronized double weakestUlps() {
      return weakestUlps;
    }

    private long irreproducible;
    private String firstIrreproducible;

    /**
     * Checks that failed once and passed when run again: the backend gave different bits for the same
     * inputs. Zero for a deterministic backend.
     */
    public synchronized long irreproducible() {
      return irreproducible;
    }

    /** The first irreproducible failure's message, or null. */
    public synchronized String firstIrreproducible() {
      return firstIrreproducible;
    }

    synchronized void irreproducible(String message) {
      if (irreproducible++ == 0) {
        firstIrreproducible = message;
      }
    }

    synchronized void add(long pairs, long inField, long secondTries, double weakest) {
      this.pairs += pairs;
      this.inField += inField;
      this.secondTries += secondTries;
      this.weakestUlps = Math.min(this.weakestUlps, weakest);
    }

    @Override
    public synchronized String toString() {
      return String.format(Locale.ROOT, "%d (p, q) pairs, %d inside the receptive field, %d needed a second value, weakest change %.3g ulp%s",
          pairs, inField, secondTries, weakestUlps, irreproducible == 0 ? "" : "; " + irreproducible + " irreproducible failure(s)");
    }
  }

  // ------------------------------------------------------------------ causality

  /**
   * Causality at the case's step q and {@code stepsPerCase - 1} more drawn from its perturbation seed:
   * every sub-pixel at step {@code >= q} gets a new random level, and the logits of every sub-pixel
   * at step {@code <= q} must keep every bit.
   */
  public void causality(MaskingCase c) {
    reproducible(c, this::causalityOnce);
  }

  private void causalityOnce(MaskingCase c) {
    ModelSpec spec = c.spec();
    GenerationOrder order = GenerationOrder.of(spec);
    int steps = order.stepCount(), levels = spec.levels(), channels = spec.channels(), h = spec.size();
    SplittableRandom random = new SplittableRandom(c.perturbation());
    int[] qs = new int[stepsPerCase];
    qs[0] = c.step();
    for (int i = 1; i < qs.length; i++) {
      qs[i] = random.nextInt(steps);
    }
    List<int[]> perturbed = new ArrayList<>();
    int maxQ = 0;
    for (int q : qs) {
      int[] img = c.image().clone();
      for (int ch = 0; ch < channels; ch++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < h; x++) {
            if (order.step(ch, y, x) >= q) {
              int k = (ch * h + y) * h + x;
              img[k] = (img[k] + 1 + random.nextInt(levels - 1)) % levels;
            }
          }
        }
      }
      perturbed.add(img);
      maxQ = Math.max(maxQ, q);
    }
    int lastNetwork = networkOfStep(spec, maxQ);
    try (Backend b = backend.get();
        PlanProbe probe = PlanProbe.open(c.plan(), b, c.weights(), CAUSALITY_GAIN, qs.length)) {
      List<float[]> original = probe.fullLogits(Collections.nCopies(qs.length, c.image()), lastNetwork);
      List<float[]> got = probe.fullLogits(perturbed, lastNetwork);
      for (int n = 0; n < qs.length; n++) {
        int q = qs[n];
        float[] a = original.get(n), g = got.get(n);
        for (int ch = 0; ch < channels; ch++) {
          for (int y = 0; y < h; y++) {
            for (int x = 0; x < h; x++) {
              if (order.step(ch, y, x) > q) {
                continue;
              }
              for (int l = 0; l < levels; l++) {
                int i = ((ch * levels + l) * h + y) * h + x;
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(g[i])) {
                  throw new AssertionError(String.format(Locale.ROOT,
                      "causality violated by %s of %s:%n  perturbing every sub-pixel at step >= %d of %d moved the logits of sub-pixel"
                          + " (c=%d, y=%d, x=%d) at step %d (%s), level %d: %s -> %s",
                      c.variant(), spec.name(), q, steps, ch, y, x, order.step(ch, y, x),
                      new ReceptiveField(spec).site(y, x), l, a[i], g[i]));
                }
              }
            }
          }
        }
      }
    }
  }

  /**
   * Runs a bit-for-bit check, and once more on a fresh backend if it fails: a dependence reproduces,
   * rounding that changes from one call to the next (a backend whose results depend on the JIT tier or
   * on thread timing) does not. A failure that does not come back is counted in {@link
   * Stats#irreproducible()} and reported on standard error, not thrown: it says the backend is not
   * deterministic, which a bit-for-bit check cannot judge, not that a mask leaks.
   */
  private void reproducible(MaskingCase c, java.util.function.Consumer<MaskingCase> check) {
    try {
      check.accept(c);
    } catch (AssertionError first) {
      try {
        check.accept(c);
      } catch (AssertionError again) {
        throw first;
      }
      stats.irreproducible(first.getMessage());
      System.err.println("warning: a bit-for-bit check failed once and passed on a second run (the backend is not"
          + " deterministic):\n  " + first.getMessage());
    }
  }

  /** The index of the network that predicts step q. */
  static int networkOfStep(ModelSpec spec, int q) {
    int baseSteps = spec.base() * spec.base() * spec.channels();
    int m = GenerationOrder.patch(spec);
    return q < baseSteps ? 0 : 1 + (q - baseSteps) / (spec.channels() * m * m);
  }

  // ------------------------------------------------------------------ receptive field

  /**
   * No blind spot at the case's sub-pixel p: every sub-pixel generated before p and inside its {@link
   * ReceptiveField} must move p's logits; one outside must not.
   */
  public void noBlindSpot(MaskingCase c) {
    reproducible(c, this::noBlindSpotOnce);
  }

  private void noBlindSpotOnce(MaskingCase c) {
    ModelSpec spec = c.spec();
    GenerationOrder order = GenerationOrder.of(spec);
    int pc = c.channel(), py = c.row(), px = c.column(), h = spec.size();
    int stepP = order.step(pc, py, px);
    List<int[]> candidates = new ArrayList<>();
    for (int ch = 0; ch < spec.channels(); ch++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < h; x++) {
          if (order.step(ch, y, x) < stepP) {
            candidates.add(new int[] {ch, y, x});
          }
        }
      }
    }
    List<String> wrong = influence(c, pc, py, px, candidates);
    if (!wrong.isEmpty()) {
      throw new AssertionError(String.format(Locale.ROOT,
          "receptive field of %s of %s wrong at sub-pixel p = (c=%d, y=%d, x=%d), step %d, predicted by the %s:%n  expected: %s%n  %s",
          c.variant(), spec.name(), pc, py, px, stepP, new ReceptiveField(spec).site(py, px),
          new ReceptiveField(spec).rule(pc, py, px), String.join("\n  ", wrong)));
    }
  }

  /**
   * The generation order of a multiscale model (DESIGN.md section 1): for a sub-pixel p of group g of
   * upscaling k (the case's sub-pixel indexes the group sub-pixels), every sub-pixel of {@code x_{2r}}
   * is tried, p itself included, and up to eight of the finer scales: exactly the
   * groups before g within reach, and p's own channels {@code < c}, move p's logits. "G2 sees only
   * G1; G3 sees G1, G2; G4 sees G1-G3; channel c sees channels < c of its own pixel."
   */
  public void generationOrder(MaskingCase c) {
    reproducible(c, this::generationOrderOnce);
  }

  private void generationOrderOnce(MaskingCase c) {
    ModelSpec spec = c.spec();
    if (spec.kind() != ModelKind.MULTISCALE) {
      throw new IllegalArgumentException("the generation order of groups concerns multiscale models, not " + spec);
    }
    int h = spec.size(), channels = spec.channels();
    ReceptiveField rf = new ReceptiveField(spec);
    // The case's sub-pixel indexes the group sub-pixels (every pixel off the base grid), channel-major.
    List<int[]> groupPixels = new ArrayList<>();
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < h; x++) {
        if (!rf.site(y, x).gated()) {
          groupPixels.add(new int[] {y, x});
        }
      }
    }
    int index = c.subPixel() % (channels * groupPixels.size());
    int pc = index / groupPixels.size();
    int py = groupPixels.get(index % groupPixels.size())[0], px = groupPixels.get(index % groupPixels.size())[1];
    ReceptiveField.Site site = rf.site(py, px);
    List<int[]> candidates = new ArrayList<>();
    List<int[]> finer = new ArrayList<>();
    for (int ch = 0; ch < channels; ch++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < h; x++) {
          // p itself too: a head that sees its own channel c moves only on p.
          (rf.atScale(site.scale(), y, x) != null ? candidates : finer).add(new int[] {ch, y, x});
        }
      }
    }
    Collections.shuffle(finer, new java.util.Random(c.perturbation()));
    candidates.addAll(finer.subList(0, Math.min(8, finer.size())));
    List<String> wrong = influence(c, pc, py, px, candidates);
    if (!wrong.isEmpty()) {
      throw new AssertionError(String.format(Locale.ROOT,
          "generation order of %s of %s wrong at sub-pixel p = (c=%d, y=%d, x=%d), %s:%n  expected: %s%n  %s",
          c.variant(), spec.name(), pc, py, px, site, rf.rule(pc, py, px), String.join("\n  ", wrong)));
    }
  }

  /**
   * Perturbs each candidate sub-pixel q alone (to the level farthest from its own, then to a second
   * level if p's logits did not move and should have) and returns every q whose effect on p's
   * logits contradicts {@link ReceptiveField#reaches}.
   */
  private List<String> influence(MaskingCase c, int pc, int py, int px, List<int[]> all) {
    if (all.isEmpty()) {
      return List.of();
    }
    List<int[]> candidates = all;
    if (all.size() > candidateLimit) {
      candidates = new ArrayList<>(all);
      Collections.shuffle(candidates, new java.util.Random(c.perturbation() + 1));
      candidates = candidates.subList(0, candidateLimit);
    }
    ModelSpec spec = c.spec();
    ReceptiveField rf = new ReceptiveField(spec);
    int h = spec.size(), levels = spec.levels();
    int batch = Math.min(32, candidates.size());
    ExecutionPlan plan = withReluAsIdentity(c.plan());
    List<String> wrong = new ArrayList<>();
    try (Backend b = backend.get();
        PlanProbe probe = PlanProbe.open(plan, b, c.weights(), RECEPTIVE_FIELD_GAIN, batch)) {
      Network net = probe.networkAt(py, px);
      GenerationOrder.Piece piece = probe.piece(net);
      int side = piece.side();
      int at = ((py - piece.rowStart()) / piece.stride()) * side + (px - piece.colStart()) / piece.stride();
      List<float[]> original = probe.logits(Collections.nCopies(batch, c.image()), net);
      boolean[] expected = new boolean[candidates.size()];
      List<int[]> first = new ArrayList<>();
      for (int k = 0; k < candidates.size(); k++) {
        int[] q = candidates.get(k);
        expected[k] = rf.reaches(pc, py, px, q[0], q[1], q[2]);
        int[] img = c.image().clone();
        int i = (q[0] * h + q[1]) * h + q[2];
        img[i] = firstLevel(img[i], levels);
        first.add(img);
      }
      List<float[]> got = probe.logits(first, net);
      double weakest = Double.POSITIVE_INFINITY;
      long inField = 0, second = 0;
      List<Integer> retry = new ArrayList<>();
      List<int[]> secondImages = new ArrayList<>();
      boolean[] moved = new boolean[candidates.size()];
      for (int k = 0; k < candidates.size(); k++) {
        float[] a = original.get(k % batch), g = got.get(k);
        double change = change(a, g, pc, levels, side, at);
        moved[k] = change > 0;
        if (expected[k]) {
          inField++;
          if (moved[k]) {
            weakest = Math.min(weakest, change);
          } else {
            int[] q = candidates.get(k);
            int i = (q[0] * h + q[1]) * h + q[2];
            int v = secondLevel(c.image()[i], levels);
            if (v >= 0) {
              int[] img = c.image().clone();
              img[i] = v;
              retry.add(k);
              secondImages.add(img);
            }
          }
        }
      }
      if (!secondImages.isEmpty()) {
        second = secondImages.size();
        List<float[]> again = probe.logits(secondImages, net);
        for (int n = 0; n < retry.size(); n++) {
          moved[retry.get(n)] = change(original.get(n % batch), again.get(n), pc, levels, side, at) > 0;
        }
      }
      stats.add(candidates.size(), inField, second, weakest);
      GenerationOrder order = probe.order();
      for (int k = 0; k < candidates.size(); k++) {
        if (expected[k] != moved[k]) {
          int[] q = candidates.get(k);
          ReceptiveField.Site s = rf.site(q[1], q[2]);
          String where = q[0] == pc && q[1] == py && q[2] == px ? "p itself"
              : s.gated() ? "step " + order.step(q[0], q[1], q[2]) + ", " + s
              : "step " + order.step(q[0], q[1], q[2]) + ", " + describeGroup(rf, net, q[1], q[2]);
          wrong.add(String.format(Locale.ROOT, "%s: sub-pixel q = (c=%d, y=%d, x=%d) (%s) %s",
              expected[k] ? "blind spot" : "leak", q[0], q[1], q[2], where,
              expected[k] ? "is inside the receptive field but moved nothing" : "is outside the receptive field but moved p's logits"));
          if (wrong.size() >= 8) {
            wrong.add("(and maybe more)");
            break;
          }
        }
      }
    }
    return wrong;
  }

  /** Where q sits as seen by the group net of p (its group at p's upscaling), for messages. */
  private static String describeGroup(ReceptiveField rf, Network net, int y, int x) {
    if (net.isGroupNet()) {
      ReceptiveField.Site s = rf.atScale(net.scale(), y, x);
      if (s == null) {
        return "a pixel of a finer scale than upscaling " + net.scale();
      }
      return "G" + s.group() + " of upscaling " + s.scale() + " at (" + s.i() + ", " + s.j() + ")";
    }
    return rf.site(y, x).toString();
  }

  /** The largest change of p's L logits, in ulps of the original logit; 0 when every bit is kept. */
  private static double change(float[] original, float[] got, int pc, int levels, int side, int at) {
    double most = 0;
    for (int l = 0; l < levels; l++) {
      int i = (pc * levels + l) * side * side + at;
      if (Float.floatToRawIntBits(original[i]) != Float.floatToRawIntBits(got[i])) {
        most = Math.max(most, Math.max(Double.MIN_VALUE, Math.abs((double) got[i] - original[i]) / Math.ulp(original[i])));
      }
    }
    return most;
  }

  /** The level farthest from v: a change of at least half the input range. */
  static int firstLevel(int v, int levels) {
    return v <= (levels - 1) / 2 ? levels - 1 : 0;
  }

  /** Another level, different from v and from {@link #firstLevel}; -1 when L = 2 leaves none. */
  static int secondLevel(int v, int levels) {
    int first = firstLevel(v, levels);
    for (int candidate : new int[] {0, levels - 1, (levels - 1) / 2, 1, levels - 2}) {
      if (candidate != v && candidate != first && candidate >= 0 && candidate < levels) {
        return candidate;
      }
    }
    return -1;
  }

  /**
   * The plan with every ReLU of its forward pass replaced by an identity (a one-part concat): the same
   * masks, convolutions, gates and connections, with no unit that can switch off. The receptive-field
   * properties run this, so that a path cut by a ReLU that happens to be off for one image is not
   * taken for a blind spot of the wiring.
   */
  public static ExecutionPlan withReluAsIdentity(ExecutionPlan plan) {
    List<Network> nets = new ArrayList<>();
    for (Network n : plan.networks()) {
      nets.add(new Network(n.name(), n.scale(), n.group(), n.resolution(), n.context(), n.own(), n.logits(), n.nll(), n.lossSum(), n.dnll(),
          n.trunk().stream().map(MaskingProperties::identityForRelu).toList(),
          n.head().stream().map(MaskingProperties::identityForRelu).toList(), n.loss(), n.backward(), n.parameters()));
    }
    // Same reads and writes per step: the liveness, and so the arenas, come out unchanged.
    return ExecutionPlan.of(plan.spec(), plan.slots(), plan.parameters(), plan.masks(), plan.image(), plan.conditioning(), plan.prepare(), nets);
  }

  private static Step identityForRelu(Step s) {
    return s instanceof Step.Relu r ? new Step.Concat(List.of(r.x()), r.y()) : s;
  }

  // ------------------------------------------------------------------ normalisation

  /**
   * The probabilities of every image of the case's spec sum to 1 within {@value
   * #NORMALISATION_TOLERANCE}, with weights of gain {@value #NORMALISATION_GAIN}: {@code L^(C·H·W)}
   * images, so for tiny specs only (at most 2^20 images; DESIGN.md's check is L = 2, 4×4 grey: 65,536).
   * Returns the total.
   */
  public double normalisation(MaskingCase c) {
    ModelSpec spec = c.spec();
    int dims = spec.channels() * spec.size() * spec.size(), levels = spec.levels();
    double count = Math.pow(levels, dims);
    if (count > (1 << 20)) {
      throw new IllegalArgumentException(String.format(Locale.ROOT,
          "normalisation enumerates every image: %s has %d^%d = %.3g, more than 2^20; use L = 2 and 4x4 grey (65,536)", spec, levels, dims, count));
    }
    int total = (int) count;
    long perImage = Math.max(1, c.plan().inferenceArena().bytesPerImage());
    int batch = (int) Math.max(1, Math.min(Math.min(4096, total), (256L << 20) / perImage));
    double sum = 0;
    try (Backend b = backend.get();
        PlanProbe probe = PlanProbe.open(c.plan(), b, c.weights(), NORMALISATION_GAIN, batch)) {
      for (int start = 0; start < total; start += batch) {
        List<int[]> images = new ArrayList<>(batch);
        for (int code = start; code < Math.min(total, start + batch); code++) {
          int[] img = new int[dims];
          for (int d = 0, rest = code; d < dims; d++, rest /= levels) {
            img[d] = rest % levels;
          }
          images.add(img);
        }
        for (double nats : probe.nats(images)) {
          sum += Math.exp(-nats);
        }
      }
    }
    if (!(Math.abs(sum - 1) < NORMALISATION_TOLERANCE)) {
      throw new AssertionError(String.format(Locale.ROOT,
          "normalisation of %s of %s: the probabilities of all %d images sum to %.9f, not 1 within %.0e",
          c.variant(), spec.name(), total, sum, NORMALISATION_TOLERANCE));
    }
    return sum;
  }

  // ------------------------------------------------------------------ agreement

  /**
   * The backend under test agrees with {@code reference} on the case's plan: every step of a training
   * step (prepare, forward, loss, backward of every network), given the same inputs (copied from the
   * reference), writes outputs within {@code tolerances} (the conformance suite's per-op families); and
   * run end to end, each network's summed nll agrees within 1e-3 relative.
   */
  public void agreement(MaskingCase c, Supplier<? extends Backend> reference, Tolerances tolerances) {
    StepAgreement.check(c, backend, reference, tolerances);
  }
}
