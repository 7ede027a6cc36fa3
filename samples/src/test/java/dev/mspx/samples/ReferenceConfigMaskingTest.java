package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mspx.api.Backend;
import dev.mspx.api.model.ImmutableModelSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.MaskSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.samples.configs.ReferenceConfigs;
import dev.mspx.testing.Tolerances;
import dev.mspx.testing.masking.AvailableBackends;
import dev.mspx.testing.masking.MaskingCases;
import dev.mspx.testing.masking.MaskingCheck;
import dev.mspx.testing.masking.MaskingProperties;
import dev.mspx.testing.masking.MaskingPropertySuite;
import dev.mspx.testing.masking.MaskingCase;
import dev.mspx.testing.gen.Gen;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The masking properties on the compiled reference configurations (DESIGN.md section 6), on the
 * scalar reference backend and on every other backend available here.
 *
 * <p>The nets are fully convolutional, so what a layer may see is fixed by its masks and wiring, not by
 * the image size. Each compiled plan is therefore checked on a crop of its own architecture (same
 * channels, levels, layers, filters, kernel, upscaling net and conditioning; a 3×3 image for a raster
 * model, a 2×2 base with one upscaling for a multiscale one), after checking that the crop uses
 * exactly the masks of the compiled plan. At full size a single forward pass of photo32-raster costs
 * the scalar backend about a minute; the crop, well under a second.
 */
class ReferenceConfigMaskingTest {

  /** The scalar reference, then every backend that ServiceLoader finds and that can run here. */
  private static List<AvailableBackends.Entry> backends;

  static synchronized List<AvailableBackends.Entry> backends() {
    if (backends == null) {
      List<AvailableBackends.Entry> all = new ArrayList<>();
      all.add(new AvailableBackends.Entry("cpu-reference", CpuReferenceBackend::new));
      AvailableBackends found = AvailableBackends.discover();
      all.addAll(found.available());
      System.out.println("masking properties of the reference configurations on " + all
          + (found.skipped().isEmpty() ? "" : "; not available here: " + found.skipped()));
      backends = List.copyOf(all);
    }
    return backends;
  }

  static Stream<String> configs() {
    List<String> names = new ArrayList<>();
    ReferenceConfigs.names().forEach(names::add);
    return names.stream();
  }

  /** The architecture of {@code spec} on a small image. */
  static ModelSpec crop(ModelSpec spec) {
    ImmutableModelSpec.Builder b = ModelSpec.builder().from(spec);
    if (spec.kind() == ModelKind.RASTER) {
      return b.size(3).base(3).build();
    }
    return b.size(4).base(2).build();
  }

  private static Set<MaskSpec> masks(ExecutionPlan plan) {
    return new HashSet<>(plan.masks().values());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void theCropHasTheMasksOfTheCompiledPlan(String config) {
    ExecutionPlan compiled = ReferenceConfigs.plan(config);
    ExecutionPlan crop = PlanBuilder.build(crop(compiled.spec()));
    assertEquals(masks(compiled), masks(crop), config + ": the cropped plan must use exactly the compiled plan's masks");
    // The crop is the same architecture: each of its parameters is one of the compiled plan's, same shape.
    java.util.Map<String, dev.mspx.api.Shape> shapes = new java.util.HashMap<>();
    compiled.parameters().forEach(p -> shapes.put(p.name(), compiled.slot(p.slot()).shape()));
    for (var p : crop.parameters()) {
      assertEquals(shapes.get(p.name()), crop.slot(p.slot()).shape(), config + ": parameter " + p.name() + " of the crop");
    }
  }

  static Stream<Arguments> configsOnBackends() {
    return configs().flatMap(c -> backends().stream().map(b -> Arguments.of(c, b)));
  }

  @ParameterizedTest(name = "{0} on {1}")
  @MethodSource("configsOnBackends")
  void propertiesHoldOnTheReferenceConfiguration(String config, AvailableBackends.Entry backend) {
    ExecutionPlan crop = PlanBuilder.build(crop(ReferenceConfigs.plan(config).spec()));
    int steps = dev.mspx.core.GenerationOrder.of(crop.spec()).stepCount();
    int subPixels = crop.spec().channels() * crop.spec().size() * crop.spec().size();
    // Positions counted from the end: the simplest draws test the last step and sub-pixel, which have
    // the most of the image before them (the first ones have nothing to leak or to hide).
    Gen<MaskingCase> cases = MaskingCases.on(crop, "reference configuration " + config + " (cropped to " + crop.spec().size() + "x" + crop.spec().size() + ")")
        .map(c -> new MaskingCase(c.plan(), c.variant(), c.weights(), c.image(), steps - 1 - c.step(), subPixels - 1 - c.subPixel(), c.perturbation()));
    Supplier<Backend> create = backend.create();
    // Wide nets on a scalar backend: 3 steps per causality case, 12 sub-pixels per receptive-field case.
    MaskingProperties p = new MaskingProperties(create, 3, 12);
    String on = config + " on " + backend.name();
    MaskingCheck.forAll("causality of " + on, cases, 2, p::causality);
    MaskingCheck.forAll("no blind spot in " + on, cases, 2, p::noBlindSpot);
    if (crop.spec().kind() == ModelKind.MULTISCALE) {
      MaskingCheck.forAll("generation order of " + on, cases, 2, p::generationOrder);
    }
    MaskingCheck.forAll("agreement of " + on + " with the reference", cases, 1,
        c -> p.agreement(c, CpuReferenceBackend::new, Tolerances.float32()));
    System.out.println(on + ": " + p.stats());
    MaskingPropertySuite.assertDeterministic(on, p.stats());
  }
}
