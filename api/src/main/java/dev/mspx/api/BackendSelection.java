package dev.mspx.api;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Chooses a backend by name: {@code cpu}, {@code cudnn} or {@code auto} (the available backend of
 * highest priority), from the system property {@code mspx.backend} or a command-line flag. An unknown
 * name fails with the known options; {@code auto} logs what it chose and why each better backend was
 * passed over; an explicit choice that cannot start fails with that backend's reasons.
 */
public final class BackendSelection {

  /** The system property that selects the backend. */
  public static final String PROPERTY = "mspx.backend";

  private static final System.Logger LOG = System.getLogger(BackendSelection.class.getName());

  /** The provider chosen, and the lines that explain the choice (also logged). */
  public record Choice(BackendProvider provider, List<String> log) {}

  private BackendSelection() {}

  /** The backends on the class path, highest priority first. */
  public static List<BackendProvider> providers() {
    List<BackendProvider> all = new ArrayList<>();
    var it = ServiceLoader.load(BackendProvider.class).iterator();
    while (true) {
      try {
        if (!it.hasNext()) {
          break;
        }
        all.add(it.next());
      } catch (java.util.ServiceConfigurationError e) {
        // A listed provider whose class cannot load (a jar half on the class path): say so, use the rest.
        LOG.log(Level.WARNING, "a backend provider could not be loaded and is skipped: " + e.getMessage());
      }
    }
    all.sort(Comparator.comparingInt(BackendProvider::priority).reversed().thenComparing(BackendProvider::name));
    return all;
  }

  /** One backend on the class path and whether it can run here. */
  public record Probe(BackendProvider provider, Availability availability) {}

  /**
   * Every backend on the class path, highest priority first, each probed once: what {@code mspx info}
   * prints and what the test kit runs its suites on. {@link #choose} decides from the same probes.
   */
  public static List<Probe> survey() {
    return survey(providers());
  }

  /** {@link #survey()} over given providers. */
  public static List<Probe> survey(List<BackendProvider> providers) {
    List<Probe> out = new ArrayList<>();
    for (BackendProvider p : providers) {
      Availability a;
      try {
        a = p.availability();
      } catch (RuntimeException | LinkageError e) {
        a = Availability.no("its probe failed: " + e, List.of());
      }
      out.add(new Probe(p, a));
    }
    return out;
  }

  /** Chooses by {@code -Dmspx.backend} (default {@code auto}). */
  public static Choice fromSystemProperty() {
    return choose(System.getProperty(PROPERTY, "auto"));
  }

  public static Choice choose(String selection) {
    return choose(selection, providers());
  }

  /** Chooses among {@code providers} (highest priority first), for tests that bring their own. */
  public static Choice choose(String selection, List<BackendProvider> providers) {
    String name = selection == null ? "auto" : selection.trim().toLowerCase(Locale.ROOT);
    List<String> log = new ArrayList<>();
    if (name.equals("auto")) {
      for (Probe probe : survey(providers)) {
        BackendProvider p = probe.provider();
        Availability a = probe.availability();
        if (a.available()) {
          log.add("backend auto: chose " + p.name());
          log.forEach(line -> LOG.log(Level.INFO, line));
          return new Choice(p, log);
        }
        log.add("backend auto: skipped " + p.name() + ", " + a.summary());
      }
      throw new BackendUnavailableException("no backend can start here: " + String.join("; ", log));
    }
    for (BackendProvider p : providers) {
      if (p.name().equals(name)) {
        Availability a = survey(List.of(p)).get(0).availability();
        if (!a.available()) {
          throw new BackendUnavailableException(
              "backend " + p.name() + " was asked for (" + PROPERTY + "=" + name + ") but is " + a.summary());
        }
        log.add("backend " + name + ": chosen explicitly");
        LOG.log(Level.INFO, log.get(0));
        return new Choice(p, log);
      }
    }
    List<String> known = new ArrayList<>(List.of("auto"));
    providers.forEach(p -> known.add(p.name()));
    throw new IllegalArgumentException("unknown backend '" + selection + "', known options " + known);
  }
}
