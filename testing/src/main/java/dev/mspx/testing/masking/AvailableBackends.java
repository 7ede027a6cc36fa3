package dev.mspx.testing.masking;

import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/**
 * The backends that {@link ServiceLoader} finds on the class path and that can run here, so that a
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

  /** Probes every provider once. */
  public static AvailableBackends discover() {
    AvailableBackends out = new AvailableBackends();
    for (BackendProvider p : ServiceLoader.load(BackendProvider.class)) {
      String why;
      try {
        var availability = p.availability();
        if (!availability.available()) {
          out.skipped.add(p.name() + ": " + availability.summary());
          continue;
        }
        try (Backend probe = p.create()) {
          why = null;
        }
      } catch (RuntimeException | LinkageError e) {
        why = e.toString();
      }
      if (why != null) {
        out.skipped.add(p.name() + ": create() failed: " + why);
      } else {
        out.available.add(new Entry(p.name(), p::create));
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
