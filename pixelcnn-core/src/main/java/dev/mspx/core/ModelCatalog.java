package dev.mspx.core;

import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanProvider;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Every compiled model on the class path, by name. The annotation processor lists each generated plan
 * in {@code META-INF/services/dev.mspx.api.plan.PlanProvider}, so a user's own jar of declarations is
 * found like the reference configurations: {@code mspx train --config my-faces} works once the jar is
 * on the class path. Two models of one name are an error that names both declarations; a listed
 * provider that cannot be loaded (a stale service entry) is reported, not fatal.
 */
public final class ModelCatalog {

  private final Map<String, PlanProvider> byName;
  private final List<String> problems;

  private ModelCatalog(Map<String, PlanProvider> byName, List<String> problems) {
    this.byName = byName;
    this.problems = problems;
  }

  /** The models that the context class loader (else this class's loader) sees. */
  public static ModelCatalog load() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    return load(loader != null ? loader : ModelCatalog.class.getClassLoader());
  }

  /** The models that {@code loader} sees. */
  public static ModelCatalog load(ClassLoader loader) {
    List<PlanProvider> found = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Iterator<PlanProvider> it = ServiceLoader.load(PlanProvider.class, loader).iterator();
    while (true) {
      try {
        if (!it.hasNext()) {
          break;
        }
        found.add(it.next());
      } catch (ServiceConfigurationError e) {
        problems.add(e.getMessage() + " (a compiled model listed but not loadable: rebuild the jar that lists it)");
      }
    }
    return of(found, problems);
  }

  /** A catalog of given providers (tests); duplicates are refused as in {@link #load()}. */
  public static ModelCatalog of(List<PlanProvider> providers, List<String> problems) {
    Map<String, PlanProvider> byName = new LinkedHashMap<>();
    List<PlanProvider> sorted = new ArrayList<>(providers);
    sorted.sort(Comparator.comparing(PlanProvider::name));
    for (PlanProvider p : sorted) {
      PlanProvider earlier = byName.putIfAbsent(p.name(), p);
      if (earlier != null && !earlier.declaration().equals(p.declaration())) {
        throw new IllegalStateException(
            "two compiled models are called '" + p.name() + "': " + earlier.declaration() + " and " + p.declaration()
                + "; rename one of the declarations (the name is the type's name in kebab case)");
      }
    }
    return new ModelCatalog(Collections.unmodifiableMap(byName), List.copyOf(problems));
  }

  /** Every model, by name in alphabetical order. */
  public List<PlanProvider> models() {
    return List.copyOf(byName.values());
  }

  public List<String> names() {
    return List.copyOf(byName.keySet());
  }

  /** Service entries that could not be loaded, each a line saying which and what to do. */
  public List<String> problems() {
    return problems;
  }

  public Optional<PlanProvider> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The plan of the model called {@code name}; an unknown name fails with the known ones. */
  public ExecutionPlan plan(String name) {
    return find(name)
        .orElseThrow(() -> new IllegalArgumentException(
            "no compiled model called '" + name + "' on the class path; known models " + names()
                + " (mspx describe --list shows them; a model of your own needs its jar on the class path, e.g. MSPX_CLASSPATH=my-models.jar)"))
        .plan();
  }

  /** The model whose plan has this fingerprint, if exactly one does. */
  public Optional<PlanProvider> byFingerprint(String fingerprint) {
    List<PlanProvider> matches = byName.values().stream().filter(p -> p.spec().fingerprint().equals(fingerprint)).toList();
    return matches.size() == 1 ? Optional.of(matches.get(0)) : Optional.empty();
  }
}
