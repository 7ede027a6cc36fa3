package dev.mspx.testing.gen;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * A generator of test values that belongs to no framework: it makes a value from the draws of a
 * {@link Source}, and it may also list smaller candidates for a value ({@link #shrink}) for frameworks
 * that shrink values rather than draws. {@link QuickTheoriesGens} adapts it to QuickTheories; {@link
 * #sample} runs it on a plain {@link RandomGenerator}; {@link #minimise} shrinks a failing value with
 * nothing else.
 *
 * <p>Convention: smaller draws make simpler values (fewer layers, fewer channels, smaller images,
 * zero pixels), so that a framework that shrinks draws towards the bottom of their ranges ends at a
 * smallest failing value.
 */
@FunctionalInterface
public interface Gen<T> {

  T generate(Source source);

  /**
   * Candidates simpler than {@code value}, simplest first, each one step away. Empty by default: the
   * draw-shrinking of {@link Source} is the main road, this is for frameworks without it.
   */
  default Stream<T> shrink(T value) {
    return Stream.empty();
  }

  /** One value from plain pseudo-random draws. */
  default T sample(RandomGenerator random) {
    return generate(Source.of(random));
  }

  /** The value that the smallest draws make. */
  default T simplest() {
    return generate(Source.minimal());
  }

  /** The same draws, another value; value shrinking is lost (draw shrinking is not). */
  default <R> Gen<R> map(Function<? super T, ? extends R> f) {
    Gen<T> self = this;
    return source -> f.apply(self.generate(source));
  }

  /** A generator that depends on the value of this one (a spec, then an image of its size). */
  default <R> Gen<R> flatMap(Function<? super T, ? extends Gen<? extends R>> f) {
    Gen<T> self = this;
    return source -> f.apply(self.generate(source)).generate(source);
  }

  /**
   * Values that satisfy {@code accept}, drawing again (up to {@code tries} times) when one does not.
   * Cheap when most values pass; the draws of a rejected value are kept, so shrinking still works.
   */
  default Gen<T> filter(Predicate<? super T> accept, int tries) {
    Gen<T> self = this;
    Gen<T> g =
        source -> {
          for (int i = 0; i < tries; i++) {
            T v = self.generate(source);
            if (accept.test(v)) {
              return v;
            }
          }
          throw new IllegalStateException("no accepted value in " + tries + " tries");
        };
    return g.withShrink(v -> self.shrink(v).filter(accept));
  }

  /** This generator with a value shrinker. */
  default Gen<T> withShrink(Function<? super T, ? extends Stream<T>> shrinker) {
    Gen<T> self = this;
    return new Gen<>() {
      @Override
      public T generate(Source source) {
        return self.generate(source);
      }

      @Override
      public Stream<T> shrink(T value) {
        return shrinker.apply(value);
      }
    };
  }

  /** Integers in {@code [min, max]}, shrinking towards {@code min}. */
  static Gen<Integer> ints(int min, int max) {
    if (min > max) {
      throw new IllegalArgumentException("empty range [" + min + ", " + max + "]");
    }
    Gen<Integer> g = source -> source.drawInt(min, max);
    return g.withShrink(v -> towards(min, v).mapToObj(x -> (int) x));
  }

  /** Longs in {@code [min, max]}, shrinking towards {@code min}. */
  static Gen<Long> longs(long min, long max) {
    Gen<Long> g = source -> source.draw(min, max);
    return g.withShrink(v -> towards(min, v).boxed());
  }

  /** A seed for a pseudo-random stream (weights, perturbations): any long, shrinking towards 0. */
  static Gen<Long> seeds() {
    return longs(0, Long.MAX_VALUE);
  }

  /** One of {@code choices}, shrinking towards the first. */
  @SafeVarargs
  static <T> Gen<T> oneOf(T... choices) {
    return oneOf(List.of(choices));
  }

  /** One of {@code choices}, shrinking towards the first. */
  static <T> Gen<T> oneOf(List<T> choices) {
    List<T> all = List.copyOf(choices);
    if (all.isEmpty()) {
      throw new IllegalArgumentException("no choices");
    }
    Gen<T> g = source -> all.get(source.drawInt(0, all.size() - 1));
    return g.withShrink(v -> all.subList(0, Math.max(0, all.indexOf(v))).stream());
  }

  /** {@code n} values of {@code element}, each shrunk in turn. */
  static <T> Gen<List<T>> listOf(Gen<T> element, int n) {
    Gen<List<T>> g =
        source -> {
          List<T> out = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            out.add(element.generate(source));
          }
          return List.copyOf(out);
        };
    return g.withShrink(
        list ->
            Stream.iterate(0, i -> i < list.size(), i -> i + 1)
                .flatMap(
                    i ->
                        element
                            .shrink(list.get(i))
                            .map(
                                smaller -> {
                                  List<T> copy = new ArrayList<>(list);
                                  copy.set(i, smaller);
                                  return List.copyOf(copy);
                                })));
  }

  /**
   * Greedy value shrinking without a framework: from a value that fails (for which {@code fails} is
   * true), moves to the first {@linkplain #shrink candidate} that still fails until none does, at
   * most {@code steps} times. Returns the smallest failing value found.
   */
  default T minimise(T failing, Predicate<? super T> fails, int steps) {
    Objects.requireNonNull(failing, "failing");
    T current = failing;
    for (int i = 0; i < steps; i++) {
      T next = shrink(current).filter(fails).findFirst().orElse(null);
      if (next == null) {
        return current;
      }
      current = next;
    }
    return current;
  }

  /** min, then halfway points, then value - 1: the classic integer shrink order. */
  private static LongStream towards(long min, long value) {
    if (value <= min) {
      return LongStream.empty();
    }
    List<Long> out = new ArrayList<>();
    out.add(min);
    for (long gap = (value - min) / 2; gap > 0; gap /= 2) {
      long v = value - gap;
      if (v != out.get(out.size() - 1)) {
        out.add(v);
      }
    }
    if (out.get(out.size() - 1) != value - 1) {
      out.add(value - 1);
    }
    return out.stream().mapToLong(Long::longValue).distinct();
  }
}
