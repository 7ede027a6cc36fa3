package dev.mspx.api.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import org.junit.jupiter.api.Test;

class PlanBuilderTest {

  static ModelSpec fashion28() {
    return ModelSpec.multiscale("Fashion28", 1, 256, 28, 7, new GatedSpec(6, 64, 5), UpscaleSpec.typeA(64, 4));
  }

  @Test
  void describesFashion28() {
    ExecutionPlan plan = PlanBuilder.build(fashion28());
    String d = plan.describe();
    System.out.println(d);
    assertEquals(1 + 2 * 3, plan.networks().size());
    assertTrue(d.contains("arena"));
  }
}
