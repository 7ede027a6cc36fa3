package dev.mspx.api;

import java.util.List;

/**
 * Whether a backend can start on this machine, and if not, why not: each reason says what was looked
 * for, where, and what to do about it. {@code details} carry facts worth printing either way (library
 * paths, versions, devices).
 */
public record Availability(boolean available, List<String> reasons, List<String> details) {

  public Availability {
    reasons = List.copyOf(reasons);
    details = List.copyOf(details);
  }

  public static Availability yes(List<String> details) {
    return new Availability(true, List.of(), details);
  }

  public static Availability no(String reason, List<String> details) {
    return new Availability(false, List.of(reason), details);
  }

  /** One line: {@code available} or {@code unavailable: reason; reason}. */
  public String summary() {
    return available ? "available" : "unavailable: " + String.join("; ", reasons);
  }
}
