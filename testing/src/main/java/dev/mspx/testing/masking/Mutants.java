package dev.mspx.testing.masking;

import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.MaskSpec;
import dev.mspx.api.plan.Masks;
import dev.mspx.api.plan.Network;
import dev.mspx.api.plan.Step;
import dev.mspx.testing.gen.SpecBounds;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * The kit's catalogue of broken plans, each a bug that shipped in some PixelCNN
 * (anantzoid/Conditional-PixelCNN-decoder#9, j-min/PixelCNN#4, rampage644/wavenet#5,
 * keras-team/keras#23038): masks that see the future, and masks or wiring that hide the past. A
 * mutant changes only masks or the wiring of one step, so the plan still runs.
 *
 * <p>Each names the properties that must reject it ({@link Mutant#killedBy}). Normalisation would
 * reject every mutant that sees the future; it is asked to for two of them only (one raster, one
 * multiscale), because enumerating 65,536 images per try makes it the slowest property by far.
 */
public final class Mutants {

  private Mutants() {}

  private static final Predicate<ModelSpec> ANY = s -> true;
  private static final UnaryOperator<SpecBounds> ALL = b -> b;
  private static final Predicate<ModelSpec> MULTISCALE = s -> s.kind() == ModelKind.MULTISCALE;
  private static final UnaryOperator<SpecBounds> MULTISCALE_ONLY = b -> b.withKinds(ModelKind.MULTISCALE);

  /** Type-A heads: the ones with a head-input mask (type B reads its own pixels through a patch mask). */
  private static final Predicate<ModelSpec> TYPE_A = s -> s.upscaling().map(u -> u.type() == dev.mspx.api.model.UpscaleType.A).orElse(false);
  private static final UnaryOperator<SpecBounds> TYPE_A_ONLY = b -> b.withKinds(ModelKind.MULTISCALE).withUpscaleTypes(dev.mspx.api.model.UpscaleType.A);

  /** The gated net has rows above the current one to hide: kernel >= 3 and a side of 2 or more. */
  private static final Predicate<ModelSpec> ROWS_ABOVE = s -> s.gated().kernel() >= 3 && s.base() >= 2;
  private static final UnaryOperator<SpecBounds> WITH_ROWS_ABOVE =
      b -> b.withKernels(b.kernels().stream().filter(k -> k >= 3).toArray(Integer[]::new)).withMinBase(Math.max(2, b.minBase()));

  /** Mask A where B belongs in the vertical stack: the first layer sees the current row, right of the pixel too. */
  public static final Mutant VERTICAL_SEES_CURRENT_ROW =
      new Mutant(
          "vertical stack leaks a row",
          "the first layer's vertical mask covers the centre row (mask B), so the vertical stack sees the current pixel and the pixels right of it",
          ANY,
          ALL,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.Vertical v && v.first() ? new MaskSpec.Vertical(v.out(), v.in(), v.kernel(), false) : m),
          EnumSet.of(MaskingProperty.CAUSALITY));

  /** Mask B where A belongs at the first layer's centre tap. */
  public static final Mutant HORIZONTAL_B_WHERE_A =
      new Mutant(
          "mask B where A belongs",
          "the first layer's horizontal centre tap is colour-masked non-strictly (B), so colour c sees its own channel c",
          ANY,
          ALL,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.Horizontal h && h.first() ? new MaskSpec.Horizontal(h.out(), h.in(), h.kernel(), false, h.colours()) : m),
          EnumSet.of(MaskingProperty.CAUSALITY, MaskingProperty.NORMALISATION));

  /** The horizontal stack's centre tap open for every pair of colours, in every layer. */
  public static final Mutant HORIZONTAL_SEES_CURRENT_PIXEL =
      new Mutant(
          "horizontal stack sees the current pixel",
          "every horizontal mask opens its centre tap for all colours, so every channel sees all channels of its own pixel",
          ANY,
          ALL,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.Horizontal h
              ? new MaskSpec.Explicit("horizontal stack with the current pixel, all colours", h.shape(), Masks.horizontalStack(h.out(), h.in(), h.kernel(), false, 1))
              : m),
          EnumSet.of(MaskingProperty.CAUSALITY));

  /** The group head's channel mask off by one: colour c sees own channels <= c. */
  public static final Mutant HEAD_SEES_OWN_CHANNEL =
      new Mutant(
          "channel mask off by one",
          "the group-net head's input mask lets output colour c see own channels <= c instead of < c",
          TYPE_A,
          TYPE_A_ONLY,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.HeadInput hi ? headInput(hi, 0, "head sees own channels <= c") : m),
          EnumSet.of(MaskingProperty.CAUSALITY, MaskingProperty.GENERATION_ORDER));

  /** The g = 2 net's trunk reads the group it predicts instead of G1. */
  public static final Mutant GROUP_NET_FED_ITS_OWN_GROUP =
      new Mutant(
          "group net fed the group it predicts",
          "the G2 net's trunk dequantizes G2 (its own targets) instead of its context G1",
          MULTISCALE,
          MULTISCALE_ONLY,
          plan -> networks(plan, n -> n.group() != 2 ? n : withTrunk(n, step -> step instanceof Step.Dequantize d && d.x() == n.context() ? new Step.Dequantize(n.own(), d.levels(), d.out()) : step)),
          EnumSet.of(MaskingProperty.CAUSALITY, MaskingProperty.NO_BLIND_SPOT, MaskingProperty.GENERATION_ORDER, MaskingProperty.NORMALISATION));

  /** The first vertical layer without the row directly above. */
  public static final Mutant VERTICAL_HIDES_ROW_ABOVE =
      new Mutant(
          "vertical stack hides the row above",
          "the first layer's vertical mask stops one row short (rows < i-1), so row i-1 is never seen",
          ROWS_ABOVE,
          WITH_ROWS_ABOVE,
          plan -> masks(plan, (name, m) -> {
            if (!(m instanceof MaskSpec.Vertical v) || !v.first()) {
              return m;
            }
            float[] values = Masks.verticalStack(v.out(), v.in(), v.kernel(), true);
            int k = v.kernel();
            for (int oi = 0; oi < v.out() * v.in(); oi++) {
              for (int x = 0; x < k; x++) {
                values[(oi * k + k / 2 - 1) * k + x] = 0;
              }
            }
            return new MaskSpec.Explicit("vertical stack without the row above", v.shape(), values);
          }),
          EnumSet.of(MaskingProperty.NO_BLIND_SPOT));

  /** The horizontal stack never receives the vertical stack: the triangular blind spot of the first PixelCNN. */
  public static final Mutant HORIZONTAL_CUT_FROM_VERTICAL =
      new Mutant(
          "horizontal stack cut from the vertical stack",
          "each layer adds the horizontal convolution to itself instead of to the vertical-to-horizontal link, so rows above are never seen",
          ROWS_ABOVE,
          WITH_ROWS_ABOVE,
          plan -> networks(plan, n -> withAllForward(n, step -> {
            if (step instanceof Step.Add a && plan.slot(a.b()).name().endsWith(".vertical_to_horizontal")) {
              return new Step.Add(a.a(), a.a(), a.out());
            }
            return step;
          })),
          EnumSet.of(MaskingProperty.NO_BLIND_SPOT));

  /** The colour mask after the first gate is strict (A) where it should be B. */
  public static final Mutant COLOUR_MASK_HIDES_OWN_COLOUR =
      new Mutant(
          "colour mask hides its own colour",
          "the first layer's 1x1 after the horizontal gate is colour-masked strictly (A), so colour c loses what its own gate units saw (own channel c-1, the pixels to the left)",
          ROWS_ABOVE,
          WITH_ROWS_ABOVE,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.Colour c && name.endsWith(".layer0.horizontal.out.mask") ? new MaskSpec.Colour(c.out(), c.in(), c.colours(), true) : m),
          EnumSet.of(MaskingProperty.NO_BLIND_SPOT));

  /** The group head's channel mask off by one the other way: colour c sees own channels < c-1. */
  public static final Mutant HEAD_HIDES_PREVIOUS_CHANNEL =
      new Mutant(
          "channel mask hides the previous channel",
          "the group-net head's input mask lets output colour c see own channels < c-1 only",
          s -> TYPE_A.test(s) && s.channels() == 3,
          b -> TYPE_A_ONLY.apply(b).withChannels(3),
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.HeadInput hi ? headInput(hi, 2, "head sees own channels < c-1") : m),
          EnumSet.of(MaskingProperty.NO_BLIND_SPOT, MaskingProperty.GENERATION_ORDER));

  /** Type-B upscaling with patches of 2×2 or more: there are places inside a patch to get wrong. */
  private static final Predicate<ModelSpec> PATCHES =
      s -> s.upscaling().map(u -> u.type() == dev.mspx.api.model.UpscaleType.B && u.patch() >= 2).orElse(false);
  private static final UnaryOperator<SpecBounds> WITH_PATCHES =
      b -> b.withKinds(ModelKind.MULTISCALE).withUpscaleTypes(dev.mspx.api.model.UpscaleType.B).withMinBase(Math.max(2, b.minBase()));

  /** The type-B patch mask with the connections {@code (output place, own colour; input place, colour)} that {@code change} says. */
  private static MaskSpec patchMask(MaskSpec.Patch pm, PatchRule change, String description) {
    int m = pm.patch(), positions = m * m, out = pm.width() * positions, in = pm.colours() * positions;
    int[] groups = Masks.colourGroups(pm.width(), pm.colours());
    float[] correct = pm.values();
    float[] values = new float[out * in];
    for (int o = 0; o < out; o++) {
      int po = o / pm.width(), co = groups[o % pm.width()];
      for (int i = 0; i < in; i++) {
        values[o * in + i] = change.allowed(correct[o * in + i] != 0, po, co, i / pm.colours(), i % pm.colours()) ? 1 : 0;
      }
    }
    return new MaskSpec.Explicit(description, pm.shape(), values);
  }

  /** A change to one connection of a patch mask. */
  private interface PatchRule {
    boolean allowed(boolean correct, int outPlace, int outColour, int inPlace, int inColour);
  }

  /** Inside a type-B patch, each place also sees the next one (its right neighbour, or the next row's first). */
  public static final Mutant PATCH_SEES_THE_NEXT_PLACE =
      new Mutant(
          "patch mask sees the next place",
          "the type-B head's patch mask lets the pixel at place p of its patch see place p+1 too, which is generated after it",
          PATCHES,
          WITH_PATCHES,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.Patch pm ? patchMask(pm, (ok, po, co, pi, ci) -> ok || pi == po + 1, "patch mask with the next place") : m),
          EnumSet.of(MaskingProperty.CAUSALITY, MaskingProperty.GENERATION_ORDER));

  /** Inside a type-B patch, the own place's channel mask is non-strict: colour c sees own channel c. */
  public static final Mutant PATCH_SEES_OWN_CHANNEL =
      new Mutant(
          "patch mask sees its own channel",
          "the type-B head's patch mask lets colour c of a pixel see its own channel c (channels <= c at its own place)",
          PATCHES,
          WITH_PATCHES,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.Patch pm ? patchMask(pm, (ok, po, co, pi, ci) -> ok || (pi == po && ci == co), "patch mask with own channels <= c") : m),
          EnumSet.of(MaskingProperty.CAUSALITY, MaskingProperty.GENERATION_ORDER));

  /** Inside a type-B patch, each place misses the one just before it. */
  public static final Mutant PATCH_HIDES_THE_PREVIOUS_PLACE =
      new Mutant(
          "patch mask hides the previous place",
          "the type-B head's patch mask lets place p see places < p-1 only, so the pixel just before it in its patch is never seen",
          PATCHES,
          WITH_PATCHES,
          plan -> masks(plan, (name, m) -> m instanceof MaskSpec.Patch pm ? patchMask(pm, (ok, po, co, pi, ci) -> ok && pi != po - 1, "patch mask without the previous place") : m),
          EnumSet.of(MaskingProperty.NO_BLIND_SPOT, MaskingProperty.GENERATION_ORDER));

  /** Every mutant of the catalogue. */
  public static List<Mutant> all() {
    return List.of(
        VERTICAL_SEES_CURRENT_ROW,
        HORIZONTAL_B_WHERE_A,
        HORIZONTAL_SEES_CURRENT_PIXEL,
        HEAD_SEES_OWN_CHANNEL,
        GROUP_NET_FED_ITS_OWN_GROUP,
        VERTICAL_HIDES_ROW_ABOVE,
        HORIZONTAL_CUT_FROM_VERTICAL,
        COLOUR_MASK_HIDES_OWN_COLOUR,
        HEAD_HIDES_PREVIOUS_CHANNEL,
        PATCH_SEES_THE_NEXT_PLACE,
        PATCH_SEES_OWN_CHANNEL,
        PATCH_HIDES_THE_PREVIOUS_PLACE);
  }

  /** A head-input mask where output colour c sees own channel c' iff {@code c' < c + 1 - shift}. */
  private static MaskSpec headInput(MaskSpec.HeadInput hi, int shift, String description) {
    int in = hi.features() + hi.colours();
    int[] groups = Masks.colourGroups(hi.out(), hi.colours());
    float[] values = new float[hi.out() * in];
    for (int o = 0; o < hi.out(); o++) {
      for (int i = 0; i < hi.features(); i++) {
        values[o * in + i] = 1;
      }
      for (int c = 0; c < hi.colours(); c++) {
        values[o * in + hi.features() + c] = c < groups[o] + 1 - shift ? 1 : 0;
      }
    }
    return new MaskSpec.Explicit(description, hi.shape(), values);
  }

  /** The plan with every mask passed through {@code change} (given the mask slot's name). */
  static ExecutionPlan masks(ExecutionPlan plan, BiFunction<String, MaskSpec, MaskSpec> change) {
    Map<Integer, MaskSpec> masks = new LinkedHashMap<>();
    plan.masks().forEach((id, m) -> masks.put(id, change.apply(plan.slot(id).name(), m)));
    return rebuild(plan, masks, plan.networks());
  }

  /** The plan with every network passed through {@code change}. */
  static ExecutionPlan networks(ExecutionPlan plan, Function<Network, Network> change) {
    return rebuild(plan, plan.masks(), plan.networks().stream().map(change).toList());
  }

  private static Network withTrunk(Network n, Function<Step, Step> change) {
    return new Network(n.name(), n.scale(), n.group(), n.resolution(), n.context(), n.own(), n.logits(), n.nll(), n.lossSum(), n.dnll(),
        n.trunk().stream().map(change).toList(), n.head(), n.loss(), n.backward(), n.parameters());
  }

  private static Network withAllForward(Network n, Function<Step, Step> change) {
    return new Network(n.name(), n.scale(), n.group(), n.resolution(), n.context(), n.own(), n.logits(), n.nll(), n.lossSum(), n.dnll(),
        n.trunk().stream().map(change).toList(), n.head().stream().map(change).toList(), n.loss(), n.backward(), n.parameters());
  }

  /** A new plan from the parts, its arena laid out again (a rewired step changes liveness). */
  private static ExecutionPlan rebuild(ExecutionPlan p, Map<Integer, MaskSpec> masks, List<Network> networks) {
    return ExecutionPlan.of(p.spec(), p.slots(), p.parameters(), masks, p.image(), p.conditioning(), p.prepare(), new ArrayList<>(networks));
  }
}
