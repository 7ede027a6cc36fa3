package dev.mspx.testing.gen;

import java.util.random.RandomGenerator;

/**
 * Where a {@link Gen} takes its choices from: each choice is one integer drawn from a closed range.
 * This is the whole contract between the generators and a property-testing framework. A framework
 * that shrinks by making draws smaller (QuickTheories, Hypothesis-style) gets shrinking for free,
 * because every generator here is written so that smaller draws give a smaller value.
 */
@FunctionalInterface
public interface Source {

  /** A value in {@code [min, max]}; a shrinking framework moves it towards {@code min}. */
  long draw(long min, long max);

  /** {@link #draw} narrowed to int. */
  default int drawInt(int min, int max) {
    return (int) draw(min, max);
  }

  /** Plain pseudo-random draws, for running a generator without any framework. */
  static Source of(RandomGenerator random) {
    return (min, max) -> {
      if (min > max) {
        throw new IllegalArgumentException("empty range [" + min + ", " + max + "]");
      }
      if (max < Long.MAX_VALUE) {
        return random.nextLong(min, max + 1);
      }
      long v;
      do {
        v = random.nextLong(); // a range reaching Long.MAX_VALUE: rejection keeps it uniform
      } while (v < min);
      return v;
    };
  }

  /** The smallest value of every range: the simplest value a generator can make. */
  static Source minimal() {
    return (min, max) -> min;
  }
}
