package dev.mspx.testing.masking;

import static org.quicktheories.QuickTheory.qt;

import dev.mspx.testing.gen.Gen;
import dev.mspx.testing.gen.QuickTheoriesGens;
import dev.mspx.testing.gen.Shrinker;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Runs a property over generated cases with QuickTheories, and shrinks a failure with the
 * deterministic {@link Shrinker} to a smallest failing case. QuickTheories draws the examples from a
 * fixed seed ({@value #DEFAULT_SEED} unless {@code -D}{@value #SEED_PROPERTY}{@code =<seed>} says
 * otherwise; {@code random} draws a fresh one), so a run is reproducible and a report says how to
 * replay it.
 *
 * <p>A failure report reads: the property, the example and seed, the smallest failing case (spec,
 * seeds, image, step, sub-pixel) with its failure (what moved, where), and the first failing example
 * before shrinking.
 */
public final class MaskingCheck {

  /** The system property that sets the seed of every check. */
  public static final String SEED_PROPERTY = "mspx.masking.seed";

  /** The seed when none is given: a fixed one, so that a build is reproducible. */
  public static final long DEFAULT_SEED = 20170303L;

  /** At most this many property evaluations go into shrinking one failure. */
  public static final int SHRINK_EVALUATIONS = 400;

  private MaskingCheck() {}

  /** The seed of this run. */
  public static long seed() {
    String s = System.getProperty(SEED_PROPERTY);
    if (s == null || s.isBlank()) {
      return DEFAULT_SEED;
    }
    if (s.equals("random")) {
      return System.nanoTime();
    }
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("-D" + SEED_PROPERTY + " must be a long or 'random', got '" + s + "'", e);
    }
  }

  /**
   * Checks {@code property} on {@code examples} cases from {@code cases}; on a failure, throws an
   * {@link AssertionError} with the shrunk counterexample.
   */
  public static void forAll(String name, Gen<MaskingCase> cases, int examples, Consumer<MaskingCase> property) {
    String report = run(name, cases, examples, property, SHRINK_EVALUATIONS);
    if (report != null) {
      throw new AssertionError(report);
    }
  }

  /**
   * For a mutant: the property must fail on one of {@code examples} cases. Returns the report of the
   * failure (with the shrunk counterexample); throws {@link AssertionError} if the property held on
   * all of them, i.e. the mutant survived.
   */
  public static String expectFailure(String name, Gen<MaskingCase> cases, int examples, Consumer<MaskingCase> property) {
    return expectFailure(name, cases, examples, property, SHRINK_EVALUATIONS);
  }

  /** As above, with at most {@code shrinkEvaluations} evaluations spent shrinking (for slow properties). */
  public static String expectFailure(
      String name, Gen<MaskingCase> cases, int examples, Consumer<MaskingCase> property, int shrinkEvaluations) {
    String report = run(name, cases, examples, property, shrinkEvaluations);
    if (report == null) {
      throw new AssertionError(name + " held on all " + examples + " examples (seed " + seed() + "): the mutant survived");
    }
    return report;
  }

  /** The report of the first failure, shrunk; null if every example passed. */
  private static String run(String name, Gen<MaskingCase> cases, int examples, Consumer<MaskingCase> property, int budget) {
    long seed = seed();
    AtomicReference<String> report = new AtomicReference<>();
    int[] tried = {0};
    try {
      qt().withFixedSeed(seed)
          .withExamples(examples)
          .withShrinkCycles(0) // the Shrinker below does it, deterministically
          .forAll(QuickTheoriesGens.recorded(cases))
          .checkAssert(
              drawn -> {
                tried[0]++;
                try {
                  property.accept(drawn.value());
                } catch (AssertionError first) {
                  report.set(shrink(name, cases, drawn, property, first, tried[0], seed, budget));
                  throw first;
                }
              });
    } catch (AssertionError quickTheories) {
      if (report.get() == null) {
        throw quickTheories;
      }
      return report.get();
    }
    return null;
  }

  private static String shrink(
      String name, Gen<MaskingCase> cases, Shrinker.Drawn<MaskingCase> drawn, Consumer<MaskingCase> property,
      AssertionError first, int example, long seed, int budget) {
    Shrinker.Shrunk<MaskingCase> shrunk =
        Shrinker.minimise(cases, drawn, c -> failure(property, c) != null, budget);
    MaskingCase smallest = shrunk.smallest().value();
    AssertionError failure = failure(property, smallest);
    return String.format(Locale.ROOT,
        "%s falsified by example %d (seed %d; replay with -D%s=%d)%n"
            + "smallest failing case (%d shrink steps, %d evaluations):%n  %s%n"
            + "its failure:%n  %s%n"
            + "first failing example, before shrinking:%n  %s%n  %s",
        name, example, seed, SEED_PROPERTY, seed, shrunk.steps(), shrunk.evaluations(),
        smallest, failure == null ? "(did not fail again: a flaky property)" : failure.getMessage(),
        drawn.value(), first.getMessage());
  }

  private static AssertionError failure(Consumer<MaskingCase> property, MaskingCase c) {
    try {
      property.accept(c);
      return null;
    } catch (AssertionError e) {
      return e;
    }
  }
}
