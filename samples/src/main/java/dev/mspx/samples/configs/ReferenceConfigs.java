package dev.mspx.samples.configs;

import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.core.ModelCatalog;
import java.util.List;

/**
 * The reference configurations of the design page, by the names the benchmarks and the PyTorch peer
 * use. They are compiled models like any other (found through {@link ModelCatalog}); this list says
 * which ones the benchmarks and the peer know, and its test checks that each is in the catalog.
 */
public final class ReferenceConfigs {

  private static final List<String> NAMES =
      List.of("fashion28", "fashion28-labelled", "fashion28-raster", "photo32", "photo32-raster", "speed512");

  private ReferenceConfigs() {}

  public static List<String> names() {
    return NAMES;
  }

  /** The compiled plan of a configuration; an unknown name fails with the known ones. */
  public static ExecutionPlan plan(String name) {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException("unknown config '" + name + "', known configs " + NAMES);
    }
    return ModelCatalog.load().plan(name);
  }
}
