package dev.mspx.testing.gen;

import org.quicktheories.impl.Constraint;

/**
 * The bridge from {@link Gen} to QuickTheories: every draw of a {@link Source} becomes a draw of
 * QuickTheories' randomness with its shrink point at the bottom of the range, so QuickTheories' own
 * (random) shrinking works on the values, and its seed replays a run.
 *
 * <pre>{@code
 * qt().withExamples(40)
 *     .forAll(QuickTheoriesGens.of(ModelGens.specs(SpecBounds.tiny())))
 *     .checkAssert(spec -> ...);
 * }</pre>
 *
 * {@link #recorded} also keeps the draws of each value, so that a failure can be shrunk with the
 * deterministic {@link Shrinker} (which is what the kit's {@code MaskingCheck} does).
 */
public final class QuickTheoriesGens {

  private QuickTheoriesGens() {}

  /** {@code gen} as a QuickTheories generator, described by {@code toString} in failure reports. */
  public static <T> org.quicktheories.core.Gen<T> of(Gen<T> gen) {
    org.quicktheories.core.Gen<T> g = in -> gen.generate(source(in));
    return g.describedAs(String::valueOf);
  }

  /** As {@link #of}, each value with the draws that made it. */
  public static <T> org.quicktheories.core.Gen<Shrinker.Drawn<T>> recorded(Gen<T> gen) {
    org.quicktheories.core.Gen<Shrinker.Drawn<T>> g = in -> Shrinker.record(gen, source(in));
    return g.describedAs(String::valueOf);
  }

  private static Source source(org.quicktheories.core.RandomnessSource in) {
    return (min, max) -> in.next(Constraint.between(min, max).withShrinkPoint(min));
  }
}
