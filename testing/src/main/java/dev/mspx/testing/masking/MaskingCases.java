package dev.mspx.testing.masking;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.core.GenerationOrder;
import dev.mspx.testing.gen.Gen;
import dev.mspx.testing.gen.ModelGens;
import dev.mspx.testing.gen.SpecBounds;

/**
 * Generators of {@link MaskingCase}s: a spec first (so shrinking simplifies the model before anything
 * else), then the weight seed, the image (one draw: {@link ModelGens#seededImages}), the step and the
 * sub-pixel (towards the first), and the perturbation seed. Few draws keep a draw-shrinking framework
 * effective: every one of them is worth shrinking.
 */
public final class MaskingCases {

  private MaskingCases() {}

  /** Cases on the reference plans that {@code PlanBuilder} builds from {@code specs}. */
  public static Gen<MaskingCase> of(Gen<ModelSpec> specs) {
    return specs.flatMap(spec -> on(PlanBuilder.build(spec), "reference plan"));
  }

  /** Cases on {@code mutant} of the reference plans of specs inside {@code bounds} that it applies to. */
  public static Gen<MaskingCase> of(SpecBounds bounds, Mutant mutant) {
    return ModelGens.specs(mutant.narrow().apply(bounds))
        .filter(mutant.appliesTo(), 200)
        .flatMap(spec -> on(mutant.apply(PlanBuilder.build(spec)), "mutant '" + mutant.name() + "'"));
  }

  /**
   * Cases for {@link MaskingProperties#normalisation}, which reads only the plan and the weights: a
   * spec and a weight seed are the only draws (image zero, step and sub-pixel 0), so that shrinking
   * spends no evaluation of this expensive property on draws it ignores.
   */
  public static Gen<MaskingCase> forNormalisation(Gen<ModelSpec> specs) {
    return specs.flatMap(spec -> weightsOnly(PlanBuilder.build(spec), "reference plan"));
  }

  /** {@link #forNormalisation} for a mutant. */
  public static Gen<MaskingCase> forNormalisation(SpecBounds bounds, Mutant mutant) {
    return ModelGens.specs(mutant.narrow().apply(bounds))
        .filter(mutant.appliesTo(), 200)
        .flatMap(spec -> weightsOnly(mutant.apply(PlanBuilder.build(spec)), "mutant '" + mutant.name() + "'"));
  }

  private static Gen<MaskingCase> weightsOnly(ExecutionPlan plan, String variant) {
    int[] zero = new int[plan.spec().channels() * plan.spec().size() * plan.spec().size()];
    return source -> new MaskingCase(plan, variant, Gen.seeds().generate(source), zero, 0, 0, 0);
  }

  /** Cases on one given plan (a compiled reference configuration, or a plan of one's own). */
  public static Gen<MaskingCase> on(ExecutionPlan plan, String variant) {
    ModelSpec spec = plan.spec();
    int steps = GenerationOrder.of(spec).stepCount();
    int subPixels = spec.channels() * spec.size() * spec.size();
    Gen<int[]> images = ModelGens.seededImages(spec);
    return source -> {
      long weights = Gen.seeds().generate(source);
      int[] image = images.generate(source);
      int step = source.drawInt(0, steps - 1);
      int subPixel = source.drawInt(0, subPixels - 1);
      long perturbation = Gen.seeds().generate(source);
      return new MaskingCase(plan, variant, weights, image, step, subPixel, perturbation);
    };
  }
}
