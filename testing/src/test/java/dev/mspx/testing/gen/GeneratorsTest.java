package dev.mspx.testing.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleType;
import dev.mspx.api.plan.PlanBuilder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The generators stay inside their bounds, build, cover the box, shrink to its corner and replay. */
class GeneratorsTest {

  private static final Gen<ModelSpec> SPECS = ModelGens.specs(SpecBounds.tiny());

  @Test
  void specsAreValidBuildableAndInsideTheBounds() {
    SplittableRandom random = new SplittableRandom(1);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 400; i++) {
      ModelSpec s = SPECS.sample(random);
      PlanBuilder.build(s); // throws if not buildable
      assertTrue(s.channels() == 1 || s.channels() == 3, s::toString);
      assertTrue(s.levels() >= 2 && s.levels() <= 256 && s.size() <= 8, s::toString);
      assertTrue(s.gated().layers() <= 3 && s.gated().filters() >= s.channels() && s.gated().filters() <= 8, s::toString);
      assertTrue(List.of(1, 3, 5).contains(s.gated().kernel()) && s.gated().kernel() / 2 <= s.base(), s::toString);
      assertTrue(s.conditioning().size() <= 1, s::toString);
      s.upscaling().ifPresent(u -> {
        assertTrue(u.type() == UpscaleType.A ? u.patch() == 0 : u.patch() >= 1 && s.base() % u.patch() == 0, s::toString);
        assertTrue(u.filters() >= s.channels() && u.blocks() <= 2 && u.headLayers() <= 3, s::toString);
        seen.add("type" + u.type() + (u.patch() > 1 ? "/patch>1" : ""));
      });
      seen.add(s.kind() + "/C" + s.channels());
      seen.add("k" + s.gated().kernel());
      seen.add(s.conditioning().isEmpty() ? "unconditioned" : s.conditioning().get(0).kind().name());
      seen.add("levels" + (s.levels() == 2 ? "2" : s.levels() > 128 ? ">128" : "mid"));
      seen.add("base" + s.base() + "/" + s.kind());
    }
    for (String wanted : List.of("RASTER/C1", "RASTER/C3", "MULTISCALE/C1", "MULTISCALE/C3", "k1", "k3", "k5",
        "unconditioned", ConditioningKind.CLASS_LABEL.name(), ConditioningKind.GLOBAL_VECTOR.name(), "levels2", "levels>128",
        "levelsmid", "base1/MULTISCALE", "base2/MULTISCALE", "base4/MULTISCALE", "typeA", "typeB", "typeB/patch>1")) {
      assertTrue(seen.contains(wanted), "400 specs never drew " + wanted + ": " + seen);
    }
  }

  @Test
  void theSmallestDrawsMakeTheSimplestSpec() {
    ModelSpec s = SPECS.simplest();
    assertEquals(ModelKind.RASTER, s.kind());
    assertEquals(List.of(1, 2, 1, 1, 1, 1), List.of(s.channels(), s.levels(), s.size(), s.gated().layers(), s.gated().filters(), s.gated().kernel()));
    assertTrue(s.conditioning().isEmpty());
  }

  @Test
  void typeBSpecsAreValidAndBuildable() {
    SplittableRandom random = new SplittableRandom(2);
    for (int i = 0; i < 50; i++) {
      ModelSpec s = ModelGens.typeBSpecs(SpecBounds.tiny()).sample(random);
      assertEquals(UpscaleType.B, s.upscaling().orElseThrow().type());
      assertEquals(0, s.base() % s.upscaling().get().patch());
      PlanBuilder.build(s); // throws if not buildable
    }
  }

  @Test
  void sameSeedSameValues() {
    for (long seed : new long[] {0, 7, 123456789}) {
      assertEquals(SPECS.sample(new SplittableRandom(seed)), SPECS.sample(new SplittableRandom(seed)));
    }
  }

  @Test
  void valueShrinkingReachesASmallestFailingSpec() {
    // "Fails" whenever the model is RGB with two or more layers: the smallest such spec has exactly that.
    ModelSpec big = ModelGens.specs(SpecBounds.tiny().withKinds(ModelKind.MULTISCALE).withChannels(3).withMaxLayers(3))
        .sample(new SplittableRandom(5));
    ModelSpec start = ModelGens.smaller(big).filter(s -> s.gated().layers() >= 2).findFirst().orElse(big);
    if (start.gated().layers() < 2) {
      return;
    }
    ModelSpec small = SPECS.minimise(start, s -> s.channels() == 3 && s.gated().layers() >= 2, 200);
    assertEquals(3, small.channels());
    assertEquals(2, small.gated().layers());
    assertEquals(2, small.levels());
    assertEquals(3, small.gated().filters());
    assertTrue(small.conditioning().isEmpty());
    assertFalse(ModelGens.smaller(small).anyMatch(s -> s.channels() == 3 && s.gated().layers() >= 2));
  }

  @Test
  void drawShrinkingReachesASmallestFailingSpec() {
    // Fails for multiscale RGB specs of 2+ layers and any conditioning.
    Shrinker.Drawn<ModelSpec> failing = null;
    SplittableRandom random = new SplittableRandom(3);
    while (failing == null) {
      Shrinker.Drawn<ModelSpec> d = Shrinker.record(SPECS, Source.of(random));
      if (fails(d.value())) {
        failing = d;
      }
    }
    Shrinker.Shrunk<ModelSpec> shrunk = Shrinker.minimise(SPECS, failing, GeneratorsTest::fails, 500);
    ModelSpec s = shrunk.smallest().value();
    assertTrue(fails(s));
    assertEquals(List.of(3, 2, 2, 1, 2, 3, 1), List.of(s.channels(), s.levels(), s.size(), s.base(), s.gated().layers(), s.gated().filters(), s.gated().kernel()), s::toString);
    assertEquals(ConditioningKind.CLASS_LABEL, s.conditioning().get(0).kind()); // the first choice of conditioning
    assertEquals(0, s.upscaling().get().blocks());
  }

  private static boolean fails(ModelSpec s) {
    return s.kind() == ModelKind.MULTISCALE && s.channels() == 3 && s.gated().layers() >= 2 && !s.conditioning().isEmpty();
  }

  @Test
  void theQuickTheoriesAdapterShrinksAndReportsTheSeed() {
    AssertionError e = assertThrows(AssertionError.class, () ->
        qt().withFixedSeed(11).withExamples(100)
            .forAll(QuickTheoriesGens.of(SPECS))
            .check(s -> s.gated().layers() < 3));
    assertTrue(e.getMessage().contains("layers=3") && e.getMessage().contains("Seed was 11"), e.getMessage());
  }

  @Test
  void intsShrinkTowardsTheirMinimum() {
    assertEquals(List.of(0, 50, 75, 88, 94, 97, 99), Gen.ints(0, 100).shrink(100).toList());
    assertEquals(17, Gen.ints(0, 100).minimise(100, v -> v >= 17, 100));
    assertEquals(List.of("a", "b"), Gen.oneOf("a", "b", "c").shrink("c").toList());
  }
}
