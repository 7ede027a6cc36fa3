package dev.mspx.testing.masking;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.testing.gen.SpecBounds;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A deliberately broken plan: a function from a correct plan to one with a masking or wiring bug of
 * the kind this model family is known for. The masking properties must reject every mutant; {@link
 * Mutants} lists the kit's own.
 *
 * @param name a short name for reports
 * @param bug what is wrong, in the words of a bug report
 * @param appliesTo the specs whose plans have the part the mutant breaks (and on which the bug shows)
 * @param narrow the bounds of {@code appliesTo} inside given bounds, so that generators draw only specs
 *     the mutant applies to (no rejected draws, which would slow shrinking)
 * @param mutation the change itself; it keeps the plan valid (shapes, liveness), only wrong
 * @param killedBy the properties that must reject it (a test of the kit checks each one does)
 */
public record Mutant(
    String name,
    String bug,
    Predicate<ModelSpec> appliesTo,
    UnaryOperator<SpecBounds> narrow,
    UnaryOperator<ExecutionPlan> mutation,
    Set<MaskingProperty> killedBy) {

  public Mutant {
    killedBy = Set.copyOf(killedBy);
  }

  /** The mutant of {@code plan}; refuses a plan it does not apply to. */
  public ExecutionPlan apply(ExecutionPlan plan) {
    if (!appliesTo.test(plan.spec())) {
      throw new IllegalArgumentException("mutant '" + name + "' does not apply to " + plan.spec());
    }
    ExecutionPlan mutated = mutation.apply(plan);
    if (mutated.equals(plan)) {
      throw new IllegalStateException("mutant '" + name + "' left " + plan.spec().name() + " unchanged");
    }
    return mutated;
  }

  @Override
  public String toString() {
    return name + " (" + bug + ")";
  }
}
