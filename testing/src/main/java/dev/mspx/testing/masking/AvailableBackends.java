package dev.mspx.testing.masking;

import dev.mspx.api.Backend;
import dev.mspx.api.BackendSelection;
import dev.mspx.core.BackendModule;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The backends on the class path that can run here, so that a
 * test can run the masking properties on "every available backend" without naming them. A provider
 * that says it is unavailable, or whose {@code create()} throws, is listed in {@link #skipped()} with
 * the reason.
 */
public final class AvailableBackends {

  /** A backend that can run here, by its provider's name. */
  public record Entry(String name, Supplier<Backend> create) {
    @Override
    public String toString() {
      return name;
    }
  }

  private final List<Entry> available = new ArrayList<>();
  private final List<String> skipped = new ArrayList<>();

  private AvailableBackends() {}

  /**
   * Probes every provider once, through the same route as every other user of a backend: {@link
   * BackendSelection#survey()} says which can run, and each is then made by its {@link BackendModule}.
   */
  public static AvailableBackends discover() {
    AvailableBackends out = new AvailableBackends();
    for (BackendSelection.Probe probe : BackendSelection.survey()) {
      String name = probe.provider().name();
      if (!probe.availability().available()) {
        out.skipped.add(name + ": " + probe.availability().summary());
        continue;
      }
      BackendModule module = BackendModule.select(name);
      String why;
      try (Backend trial = module.create()) {
        why = null;
      } catch (RuntimeException | LinkageError e) {
        why = e.toString();
      }
      if (why != null) {
        out.skipped.add(name + ": create() failed: " + why);
      } else {
        out.available.add(new Entry(name, module::create));
      }
    }
    return out;
  }

  public List<Entry> available() {
    return List.copyOf(available);
  }

  public List<String> skipped() {
    return List.copyOf(skipped);
  }
}
