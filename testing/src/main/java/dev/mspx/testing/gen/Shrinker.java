package dev.mspx.testing.gen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * Deterministic shrinking of draws: given the draws that made a failing value, makes each draw as small
 * as it can be while the value still fails, draw by draw, front to back, until a whole pass changes
 * nothing. Because the generators make simpler values from smaller draws (and draw the spec first),
 * this ends at a smallest failing spec, then the simplest weights, image, step and sub-pixel that
 * still fail with it. It needs nothing but a {@link Gen}, so any framework can call it on a failure;
 * the kit's {@code MaskingCheck} does, after QuickTheories finds one.
 *
 * <p>For each draw it tries the bottom of its range, then points closer and closer to the current
 * value (half way, three quarters, …, current - 1), taking the first that still fails; a draw whose
 * range is larger than 2^16 (a seed) tries the bottom and 1, 2, 3 only, since nearby seeds are no
 * simpler than far ones.
 */
public final class Shrinker {

  private Shrinker() {}

  /** One draw as it was made: its range and the value drawn. */
  public record Draw(long min, long max, long value) {}

  /** A value with the draws that made it. */
  public record Drawn<T>(T value, List<Draw> draws) {
    public Drawn {
      draws = List.copyOf(draws);
    }

    @Override
    public String toString() {
      return String.valueOf(value);
    }
  }

  /** The result: the smallest failing value found, its draws, and what it took. */
  public record Shrunk<T>(Drawn<T> smallest, int steps, int evaluations) {}

  /** Runs {@code gen} on {@code source}, recording every draw. */
  public static <T> Drawn<T> record(Gen<T> gen, Source source) {
    List<Draw> draws = new ArrayList<>();
    T value =
        gen.generate(
            (min, max) -> {
              long v = source.draw(min, max);
              draws.add(new Draw(min, max, v));
              return v;
            });
    return new Drawn<>(value, draws);
  }

  /**
   * Runs {@code gen} on the given values, each clamped into the range its draw asks for (ranges move
   * when earlier draws change), the bottom of the range once they run out.
   */
  public static <T> Drawn<T> replay(Gen<T> gen, long[] values) {
    int[] next = {0};
    return record(
        gen,
        (min, max) -> {
          int i = next[0]++;
          return i < values.length ? Math.max(min, Math.min(max, values[i])) : min;
        });
  }

  /**
   * Shrinks {@code failing} (made by {@code gen}) while {@code fails} holds, with at most {@code
   * maxEvaluations} calls of {@code fails}. A replay that throws counts as not failing.
   */
  public static <T> Shrunk<T> minimise(Gen<T> gen, Drawn<T> failing, Predicate<? super T> fails, int maxEvaluations) {
    Drawn<T> best = failing;
    int steps = 0, evaluations = 0;
    boolean improved = true;
    while (improved && evaluations < maxEvaluations) {
      improved = false;
      for (int i = 0; i < best.draws().size() && evaluations < maxEvaluations; i++) {
        Draw d = best.draws().get(i);
        for (long candidate : candidates(d)) {
          if (evaluations >= maxEvaluations) {
            break;
          }
          long[] values = best.draws().stream().mapToLong(Draw::value).toArray();
          values[i] = candidate;
          Drawn<T> trial;
          try {
            trial = replay(gen, values);
          } catch (RuntimeException e) {
            continue; // these draws make no value (a filter gave up): not a candidate
          }
          if (sameDraws(trial, best)) {
            continue;
          }
          evaluations++;
          boolean stillFails;
          try {
            stillFails = fails.test(trial.value());
          } catch (RuntimeException e) {
            stillFails = false;
          }
          if (stillFails) {
            best = trial;
            steps++;
            improved = true;
            break;
          }
        }
      }
    }
    return new Shrunk<>(best, steps, evaluations);
  }

  private static boolean sameDraws(Drawn<?> a, Drawn<?> b) {
    return Arrays.equals(a.draws().stream().mapToLong(Draw::value).toArray(), b.draws().stream().mapToLong(Draw::value).toArray());
  }

  /** Values to try for a draw, simplest first, all below its current value. */
  private static long[] candidates(Draw d) {
    long min = d.min(), v = d.value();
    if (v <= min) {
      return new long[0];
    }
    List<Long> out = new ArrayList<>();
    out.add(min);
    if (d.max() - min > (1 << 16)) {
      for (long k = 1; k <= 3 && min + k < v; k++) {
        out.add(min + k);
      }
    } else {
      for (long gap = (v - min) / 2; gap > 0; gap /= 2) {
        if (v - gap > out.get(out.size() - 1)) {
          out.add(v - gap);
        }
      }
    }
    return out.stream().mapToLong(Long::longValue).toArray();
  }
}
