package dev.mspx.samples.configs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.api.plan.PlanProvider;
import dev.mspx.core.ModelCatalog;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plans javac compiled from the reference declarations are exactly what the builder makes at run time. */
class ReferenceConfigsTest {

  @Test
  void compiledPlansEqualRunTimePlans() {
    for (String name : ReferenceConfigs.names()) {
      ExecutionPlan compiled = ReferenceConfigs.plan(name);
      ExecutionPlan built = PlanBuilder.build(compiled.spec());
      assertEquals(built, compiled, name);
    }
  }

  @Test
  void constantsDescribeThePlan() {
    assertEquals(4_105_792L, Fashion28Plan.PARAMETER_COUNT);
    assertEquals(2_789_824L, Fashion28Plan.EFFECTIVE_PARAMETER_COUNT);
    assertEquals(Fashion28Plan.plan().arena().bytesPerImage(), Fashion28Plan.ARENA_BYTES_PER_IMAGE);
    assertEquals(8L * 8 * 3 + 6 * 3 * 4, Speed512Plan.SAMPLING_EVALUATIONS);
    assertEquals(1, Fashion28LabelledPlan.plan().conditioning().size());
  }

  @Test
  void everyReferenceConfigIsInTheCatalogUnderItsName() {
    ModelCatalog catalog = ModelCatalog.load();
    assertEquals(List.of(), catalog.problems());
    assertEquals("dev.mspx.samples.configs.Fashion28Raster", catalog.find("fashion28-raster").orElseThrow().declaration());
    for (String name : ReferenceConfigs.names()) {
      PlanProvider p = catalog.find(name).orElseThrow(() -> new AssertionError(name + " is not in the catalog " + catalog.names()));
      assertEquals(name, p.spec().catalogName());
      assertEquals(p.plan().parameterCount(), p.parameterCount());
    }
  }

  @Test
  void unknownConfigNamesTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReferenceConfigs.plan("mnist"));
    assertTrue(e.getMessage().contains("[fashion28, fashion28-labelled, fashion28-raster, photo32, photo32-raster, speed512]"), e.getMessage());
  }
}
