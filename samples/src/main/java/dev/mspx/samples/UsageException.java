package dev.mspx.samples;

/**
 * A command line that cannot be right, found once the options are parsed (a count below 1, options
 * that contradict each other): one line naming the option and what to give instead, and exit code 2,
 * before anything is read, written or computed.
 */
final class UsageException extends RuntimeException {

  UsageException(String message) {
    super(message);
  }

  /** Refuses {@code value} of {@code option} unless it is at least {@code min}. */
  static void atLeast(String option, long value, long min) {
    if (value < min) {
      throw new UsageException(option + " must be at least " + min + ", got " + value);
    }
  }

  /** Refuses {@code value} of {@code option} unless it is a finite number above 0. */
  static void positive(String option, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw new UsageException(option + " must be a number above 0, got " + value);
    }
  }

  /** Refuses {@code value} of {@code option} unless it is a finite number of at least 0. */
  static void notNegative(String option, double value) {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw new UsageException(option + " must be 0 or more, got " + value);
    }
  }
}
