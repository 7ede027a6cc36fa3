package dev.mspx.samples.configs;

import dev.mspx.api.plan.ExecutionPlan;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** The reference configurations by the names DESIGN.md, the benchmarks and the peer use. */
public final class ReferenceConfigs {

  private static final Map<String, Supplier<ExecutionPlan>> PLANS = new LinkedHashMap<>();

  static {
    PLANS.put("fashion28", Fashion28Plan::plan);
    PLANS.put("fashion28-labelled", Fashion28LabelledPlan::plan);
    PLANS.put("fashion28-raster", Fashion28RasterPlan::plan);
    PLANS.put("photo32", Photo32Plan::plan);
    PLANS.put("photo32-raster", Photo32RasterPlan::plan);
    PLANS.put("speed512", Speed512Plan::plan);
  }

  private ReferenceConfigs() {}

  public static Iterable<String> names() {
    return PLANS.keySet();
  }

  /** The compiled plan of a configuration; an unknown name fails with the known ones. */
  public static ExecutionPlan plan(String name) {
    Supplier<ExecutionPlan> plan = PLANS.get(name);
    if (plan == null) {
      throw new IllegalArgumentException("unknown config '" + name + "', known configs " + PLANS.keySet());
    }
    return plan.get();
  }
}
