package dev.mspx.api.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Shape;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlanBuilderTest {

  static ModelSpec fashion28() {
    return ModelSpec.multiscale("Fashion28", 1, 256, 28, 7, new GatedSpec(6, 64, 5), UpscaleSpec.typeA(64, 4));
  }

  /**
   * Parameter counts of the reference configurations equal the PyTorch peer's ({@code torch_mspx.py
   * params}: stored, and effective = not forced to zero by a mask): the same layers, masks and widths.
   */
  @Test
  void referenceConfigurationsMatchThePeersParameterCounts() {
    record Expected(ModelSpec spec, long stored, long effective) {}
    var expected =
        java.util.List.of(
            new Expected(fashion28(), 4_105_792, 2_789_824),
            new Expected(ModelSpec.raster("Fashion28Raster", 1, 256, 28, new GatedSpec(12, 64, 5)), 4_783_936, 1_895_488),
            new Expected(ModelSpec.multiscale("Photo32", 3, 256, 32, 8, new GatedSpec(6, 96, 5), UpscaleSpec.typeA(96, 4)), 9_523_296, 6_327_072),
            new Expected(ModelSpec.raster("Photo32Raster", 3, 256, 32, new GatedSpec(12, 96, 5)), 10_811_232, 4_169_376),
            new Expected(ModelSpec.multiscale("Speed512", 3, 256, 512, 8, new GatedSpec(6, 64, 5), UpscaleSpec.typeA(64, 4)), 8_604_736, 6_947_591));
    for (Expected e : expected) {
      ExecutionPlan plan = PlanBuilder.build(e.spec());
      assertEquals(e.stored(), plan.parameterCount(), e.spec().name() + " stored");
      assertEquals(e.effective(), plan.effectiveParameterCount(), e.spec().name() + " effective");
    }
  }

  @Test
  void multiscalePlanHasABaseAndThreeGroupNetsPerUpscaling() {
    ExecutionPlan plan = PlanBuilder.build(fashion28());
    assertEquals(1 + 2 * 3, plan.networks().size());
    Network base = plan.networks().get(0);
    assertEquals("base", base.name());
    assertTrue(base.trunk().isEmpty(), "the base net reads its own image throughout");
    assertEquals(7, base.resolution());
    Network g3 = plan.networks().get(2);
    assertEquals(3, g3.group());
    assertEquals(java.util.List.of(1, 2, 7, 7), plan.slot(g3.context()).shape().dims());
    // The trunk never reads the group's own sub-pixels; the head does.
    assertTrue(g3.trunk().stream().noneMatch(s -> contains(s.reads(), g3.own())));
    assertTrue(g3.head().stream().anyMatch(s -> contains(s.reads(), g3.own())));
    assertEquals(7L * 7 + 2 * 3 * 2, plan.samplingEvaluations());
    assertTrue(plan.describe().contains("2,789,824 effective"));
  }

  @Test
  void everyParameterGetsExactlyOneGradientWrite() {
    ExecutionPlan plan = PlanBuilder.build(fashion28());
    Map<Integer, Integer> writes = new HashMap<>();
    for (Step s : plan.trainingSchedule()) {
      for (int id : s.writes()) {
        writes.merge(id, 1, Integer::sum);
      }
    }
    for (ParameterSpec p : plan.parameters()) {
      assertEquals(1, writes.getOrDefault(p.gradient(), 0), p.name());
      assertEquals(0, writes.getOrDefault(p.slot(), 0), p.name() + " is written during a step");
    }
  }

  /** No two arena slots that are live at the same step overlap in memory. */
  @Test
  void arenaLayoutNeverOverlapsLiveSlots() {
    ExecutionPlan plan = PlanBuilder.build(fashion28());
    ArenaLayout arena = plan.arena();
    var schedule = plan.trainingSchedule();
    Set<Integer> placed = new HashSet<>();
    for (Slot s : plan.slots()) {
      if (arena.offset(s.id()) >= 0) {
        placed.add(s.id());
        assertTrue(arena.offset(s.id()) % ArenaLayout.ALIGNMENT == 0);
        assertTrue(arena.offset(s.id()) + s.bytes() <= arena.bytesPerImage());
      }
    }
    for (Step step : schedule) {
      Set<Integer> touched = new HashSet<>();
      for (int id : step.reads()) {
        touched.add(id);
      }
      for (int id : step.writes()) {
        touched.add(id);
      }
      touched.retainAll(placed);
      for (int a : touched) {
        for (int b : touched) {
          if (a < b) {
            long a0 = arena.offset(a), a1 = a0 + plan.slot(a).bytes();
            long b0 = arena.offset(b), b1 = b0 + plan.slot(b).bytes();
            assertTrue(a1 <= b0 || b1 <= a0, plan.slot(a) + " overlaps " + plan.slot(b) + " in " + step);
          }
        }
      }
    }
    long total = placed.stream().mapToLong(id -> plan.slot(id).bytes()).sum();
    assertTrue(arena.bytesPerImage() < total / 4, "liveness reuse: " + arena.bytesPerImage() + " of " + total);
  }

  /**
   * Type-B upscaling over M×M patches: the head reads the own sub-pixels through a patch-masked 1×1
   * between space-to-depth layouts (put back by depth-to-space), and sampling takes M²·C heads per
   * group: photo32 with 2×2 patches needs 8·8·3 + 2·3·(1 + 4·3) = 270 evaluations (type A: 216).
   */
  @Test
  void typeBHeadsReadTheirPatchAndCostMSquaredHeadsPerChannel() {
    ModelSpec photo = ModelSpec.multiscale("Photo32B", 3, 256, 32, 8, new GatedSpec(6, 96, 5),
        new UpscaleSpec(96, 4, 2, dev.mspx.api.model.UpscaleType.B, 2));
    ExecutionPlan plan = PlanBuilder.build(photo);
    assertEquals(270, plan.samplingEvaluations());
    assertTrue(plan.describe().contains("sampling: 270 network evaluations per image"), plan.describe());
    Network g2 = plan.networks().get(1);
    assertTrue(g2.head().stream().anyMatch(st -> st instanceof Step.SpaceToDepth sd && sd.block() == 2));
    assertTrue(g2.head().stream().anyMatch(st -> st instanceof Step.DepthToSpace ds && ds.block() == 2));
    assertTrue(g2.backward().stream().anyMatch(st -> st instanceof Step.SpaceToDepth), "depth-to-space's gradient");
    MaskSpec.Patch patch = (MaskSpec.Patch) plan.masks().values().stream().filter(m -> m instanceof MaskSpec.Patch).findFirst().orElseThrow();
    assertEquals(Shape.of(96 * 4, 3 * 4, 1, 1), patch.shape());
    // Place 1 (top right) of the patch, a red hidden unit: all of place 0, none of its own place or later.
    float[] m = patch.values();
    int in = 12, o = 96 + 0;
    for (int i = 0; i < in; i++) {
      assertEquals(i < 3 ? 1f : 0f, m[o * in + i], "input " + i);
    }
    // Place 3 (bottom right), a blue hidden unit: places 0..2 and own red and green.
    o = 3 * 96 + 95;
    for (int i = 0; i < in; i++) {
      assertEquals(i < 11 ? 1f : 0f, m[o * in + i], "input " + i);
    }
    // With M = 1 the patch mask is the type-A head's own-pixel part.
    float[] a = Masks.headInput(6, 4, 3), b = Masks.patch(6, 3, 1);
    for (int out = 0; out < 6; out++) {
      for (int c = 0; c < 3; c++) {
        assertEquals(a[out * 7 + 4 + c], b[out * 3 + c]);
      }
    }
  }

  private static boolean contains(int[] ids, int id) {
    for (int i : ids) {
      if (i == id) {
        return true;
      }
    }
    return false;
  }
}
