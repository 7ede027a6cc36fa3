package dev.mspx.testing.masking;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Backend;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.testing.Tolerances;
import dev.mspx.testing.gen.Gen;
import dev.mspx.testing.gen.ModelGens;
import dev.mspx.testing.gen.SpecBounds;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The published masking suite: every property of {@link MaskingProperties} over generated plans, and
 * every {@link Mutants mutant} rejected, on the backend a subclass supplies. A backend module (or a
 * conditioning module, through {@link #bounds()}) runs it by extending it in its tests:
 *
 * <pre>{@code
 * class CpuVectorMaskingTest extends MaskingPropertySuite {
 *   protected Backend createBackend() { return new CpuVectorBackend(); }
 *   protected Backend createReferenceBackend() { return new CpuReferenceBackend(); }
 * }
 * }</pre>
 *
 * Examples come from a fixed seed ({@link MaskingCheck#seed()}); a failure reports the smallest
 * failing case it could shrink to, and how to replay it. Test methods are public, so a subclass can
 * override one (to disable it with a reason, or to change its counts).
 */
public abstract class MaskingPropertySuite {

  /** The backend under test; a fresh one per check, closed by the suite. */
  protected abstract Backend createBackend();

  /** The oracle the backend must agree with (the scalar CPU reference); a fresh one per check. */
  protected abstract Backend createReferenceBackend();

  /** Where specs are drawn from; a conditioning module adds its own with {@code withConditioning}. */
  protected SpecBounds bounds() {
    return SpecBounds.tiny();
  }

  /** Tolerances of {@link #agreesWithTheReferenceBackend}. */
  protected Tolerances tolerances() {
    return Tolerances.float32();
  }

  /** Examples per property and model kind. */
  protected int examples() {
    return 40;
  }

  /** Examples within which a mutant must be caught. */
  protected int mutantExamples() {
    return 60;
  }

  /**
   * The bounds of the normalisation check: DESIGN.md's L = 2, 4×4 grey images (65,536 of them), with
   * nets small enough to score them all in about a second.
   */
  protected SpecBounds normalisationBounds() {
    return bounds().withChannels(1).withLevels(2, 2).withSizes(4, 4).withMaxLayers(2).withMaxFilters(4)
        .withKernels(1, 3).withMaxBlocks(1).withMaxHeadLayers(2);
  }

  private MaskingProperties properties() {
    return new MaskingProperties(this::createBackend);
  }

  private String name(String property, ModelKind kind) {
    return String.format(Locale.ROOT, "%s of %s plans on %s", property, kind.name().toLowerCase(Locale.ROOT), backendName());
  }

  private String backendName() {
    try (Backend b = createBackend()) {
      return b.name();
    }
  }

  private Gen<MaskingCase> cases(ModelKind kind) {
    return MaskingCases.of(ModelGens.specs(bounds().withKinds(kind)));
  }

  @Test
  public void causalityOfRasterPlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("causality", ModelKind.RASTER), cases(ModelKind.RASTER), examples(), p::causality);
    report("causality, raster", p.stats());
  }

  @Test
  public void causalityOfMultiscalePlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("causality", ModelKind.MULTISCALE), cases(ModelKind.MULTISCALE), examples(), p::causality);
    report("causality, multiscale", p.stats());
  }

  @Test
  public void noBlindSpotInRasterPlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("no blind spot", ModelKind.RASTER), cases(ModelKind.RASTER), examples(), p::noBlindSpot);
    report("no blind spot, raster", p.stats());
  }

  @Test
  public void noBlindSpotInMultiscalePlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("no blind spot", ModelKind.MULTISCALE), cases(ModelKind.MULTISCALE), examples(), p::noBlindSpot);
    report("no blind spot, multiscale", p.stats());
  }

  @Test
  public void generationOrderOfMultiscalePlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("generation order", ModelKind.MULTISCALE), cases(ModelKind.MULTISCALE), examples(), p::generationOrder);
    report("generation order", p.stats());
  }

  /**
   * A bit-for-bit check that failed and then passed on the same inputs means the backend is not
   * deterministic; the properties cannot vouch for its masks then, so that fails the suite too, with
   * the first such failure (the retry only tells this apart from a leak, which fails both times).
   */
  public static void assertDeterministic(String what, MaskingProperties.Stats stats) {
    assertTrue(stats.irreproducible() == 0,
        what + ": " + stats.irreproducible() + " bit-for-bit check(s) failed once and passed when run again: the backend"
            + " gives different bits for the same inputs, and causality cannot be checked bit for bit on it. First: "
            + stats.firstIrreproducible());
  }

  /** The receptive-field margin: the weakest dependence seen must stay far above float32 resolution. */
  private static void report(String what, MaskingProperties.Stats stats) {
    System.out.println(what + ": " + stats);
    assertDeterministic(what, stats);
    assertTrue(stats.inField() == 0 || stats.weakestUlps() >= 16,
        what + ": the weakest dependence inside a receptive field moved the logits by only " + stats.weakestUlps()
            + " ulp; the no-blind-spot check has too little margin on this backend (" + stats + ")");
  }

  @Test
  public void normalisationOfRasterModels() {
    normalisation(ModelKind.RASTER, 4);
  }

  /** Base 2: one upscaling 2 → 4. */
  @Test
  public void normalisationOfMultiscaleModelsFromBase2() {
    normalisation(ModelKind.MULTISCALE, 2);
  }

  /** Base 1: two upscalings 1 → 2 → 4. */
  @Test
  public void normalisationOfMultiscaleModelsFromBase1() {
    normalisation(ModelKind.MULTISCALE, 1);
  }

  /** Examples of each normalisation test (each scores 65,536 images). */
  protected int normalisationExamples() {
    return 3;
  }

  private void normalisation(ModelKind kind, int base) {
    MaskingProperties p = properties();
    List<String> totals = new ArrayList<>();
    Gen<ModelSpec> specs = ModelGens.specs(normalisationBounds().withKinds(kind)).filter(s -> s.base() == base, 100);
    String name = name("normalisation", kind) + " from base " + base;
    MaskingCheck.forAll(name, MaskingCases.forNormalisation(specs), normalisationExamples(),
        c -> totals.add(String.format(Locale.ROOT, "%.9f (%s)", p.normalisation(c), c.spec())));
    System.out.println(name + ": " + String.join("; ", totals));
  }

  @Test
  public void agreesWithTheReferenceBackend() {
    MaskingProperties p = properties();
    MaskingCheck.forAll("agreement of " + backendName() + " with the reference", MaskingCases.of(ModelGens.specs(bounds())),
        Math.max(1, examples() / 2), c -> p.agreement(c, this::createReferenceBackend, tolerances()));
  }

  /**
   * Type-B plans only (the default bounds draw both types): a patch of 2×2 or more needs a base of 2 or
   * more, so the base starts there. Half the examples of the mixed properties.
   */
  private Gen<MaskingCase> typeBCases() {
    return MaskingCases.of(ModelGens.typeBSpecs(bounds().withMinBase(Math.max(2, bounds().minBase()))));
  }

  @Test
  public void causalityOfTypeBPlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("causality", ModelKind.MULTISCALE) + ", type-B upscaling", typeBCases(), Math.max(1, examples() / 2), p::causality);
    report("causality, type B", p.stats());
  }

  @Test
  public void noBlindSpotInTypeBPlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("no blind spot", ModelKind.MULTISCALE) + ", type-B upscaling", typeBCases(), Math.max(1, examples() / 2), p::noBlindSpot);
    report("no blind spot, type B", p.stats());
  }

  @Test
  public void generationOrderOfTypeBPlans() {
    MaskingProperties p = properties();
    MaskingCheck.forAll(name("generation order", ModelKind.MULTISCALE) + ", type-B upscaling", typeBCases(), Math.max(1, examples() / 2), p::generationOrder);
    report("generation order, type B", p.stats());
  }

  /** Base 2 with 2×2 patches: the whole G2, G3, G4 grid is one patch, generated pixel by pixel. */
  @Test
  public void normalisationOfTypeBModels() {
    MaskingProperties p = properties();
    List<String> totals = new ArrayList<>();
    Gen<ModelSpec> specs = ModelGens.typeBSpecs(normalisationBounds()).filter(s -> s.base() == 2 && s.upscaling().get().patch() == 2, 100);
    String name = name("normalisation", ModelKind.MULTISCALE) + ", type-B upscaling, 2x2 patches";
    MaskingCheck.forAll(name, MaskingCases.forNormalisation(specs), normalisationExamples(),
        c -> totals.add(String.format(Locale.ROOT, "%.9f (%s)", p.normalisation(c), c.spec())));
    System.out.println(name + ": " + String.join("; ", totals));
  }

  /** Every mutant with every property that must reject it. */
  public static Stream<Object[]> mutantKills() {
    List<Object[]> out = new ArrayList<>();
    for (Mutant m : Mutants.all()) {
      for (MaskingProperty p : MaskingProperty.values()) {
        if (m.killedBy().contains(p)) {
          out.add(new Object[] {m, p});
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{1} rejects mutant ''{0}''")
  @MethodSource("mutantKills")
  public void mutantIsRejected(Mutant mutant, MaskingProperty property) {
    MaskingProperties p = properties();
    String name = property + " on mutant '" + mutant.name() + "' on " + backendName();
    String report =
        switch (property) {
          case CAUSALITY -> MaskingCheck.expectFailure(name, MaskingCases.of(bounds(), mutant), mutantExamples(), p::causality);
          case NO_BLIND_SPOT -> MaskingCheck.expectFailure(name, MaskingCases.of(bounds(), mutant), mutantExamples(), p::noBlindSpot);
          case GENERATION_ORDER -> MaskingCheck.expectFailure(name, MaskingCases.of(bounds().withKinds(ModelKind.MULTISCALE), mutant), mutantExamples(), p::generationOrder);
          case NORMALISATION -> MaskingCheck.expectFailure(name, MaskingCases.forNormalisation(normalisationBounds(), mutant), 6,
              (Consumer<MaskingCase>) p::normalisation, 8);
        };
    System.out.println("killed: " + report);
  }
}
