package dev.mspx.codegen;

import static com.google.testing.compile.CompilationSubject.assertThat;
import static com.google.testing.compile.Compiler.javac;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.testing.compile.Compilation;
import javax.tools.JavaFileObject;
import com.google.testing.compile.JavaFileObjects;
import dev.mspx.api.model.SpecError;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * One compilation per diagnostic of {@link SpecError}, each pinned to the line of the annotation value
 * to blame; a compilation that reports several at once; and a check that no diagnostic goes untested.
 */
class DiagnosticsTest {

  /** A declaration whose lines are given one by one, so a test can point at one of them. */
  static JavaFileObject source(String name, String... lines) {
    return JavaFileObjects.forSourceLines("test." + name, lines);
  }

  static final String HEADER =
      "package test;\nimport dev.mspx.api.model.*;\n";

  static Compilation compile(JavaFileObject... files) {
    return javac().withProcessors(new PlanProcessor()).compile(files);
  }

  /** Conditioning types the declarations below refer to. */
  static final JavaFileObject CONDITIONING =
      source(
          "Conds",
          HEADER,
          "public final class Conds {",
          "  @ConditioningInput(kind = ConditioningKind.CLASS_LABEL, width = 10)",
          "  public static final class Label implements Conditioning {}",
          "  @ConditioningInput(kind = ConditioningKind.CLASS_LABEL, width = 0)",
          "  public static final class Empty implements Conditioning {}",
          "  @ConditioningInput(kind = ConditioningKind.SPATIAL, width = 2)",
          "  public static final class Map implements Conditioning {}",
          "  public static final class Bare implements Conditioning {}",
          "  public static final class NotSpi {}",
          "}");

  /**
   * A valid multiscale declaration with one attribute line replaced: {@code channels}, {@code levels},
   * {@code size}, {@code base}, {@code baseNet}, {@code upscaling}, {@code conditioning}.
   */
  static JavaFileObject multiscale(String name, String channels, String levels, String size, String base,
      String baseNet, String upscaling, String conditioning) {
    return source(
        name,
        HEADER,
        "@MultiscaleModel(",
        "    " + channels + ",",
        "    " + levels + ",",
        "    " + size + ",",
        "    " + base + ",",
        "    " + baseNet + ",",
        "    " + conditioning + ",",
        "    " + upscaling + ")",
        "public interface " + name + " {}");
  }

  static JavaFileObject valid(String name, String attribute, String replacement) {
    String[] v = {
      "channels = 1", "levels = 256", "size = 16", "base = 4",
      "baseNet = @GatedStack(layers = 2, filters = 8, kernel = 3)",
      "upscaling = @Upscaling(filters = 8, blocks = 1)", "conditioning = {}"
    };
    String[] keys = {"channels", "levels", "size", "base", "baseNet", "upscaling", "conditioning"};
    for (int i = 0; i < keys.length; i++) {
      if (keys[i].equals(attribute)) {
        v[i] = replacement;
      }
    }
    return multiscale(name, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
  }

  record Case(SpecError error, JavaFileObject source, String line, String text) {
    @Override
    public String toString() {
      return error.name();
    }
  }

  static Stream<Arguments> cases() {
    return Stream.of(
            new Case(SpecError.CHANNELS, valid("M", "channels", "channels = 2"), "channels = 2", "channels must be 1 (grey) or 3"),
            new Case(SpecError.LEVELS, valid("M", "levels", "levels = 300"), "levels = 300", "levels must lie in 2..256"),
            new Case(SpecError.NOT_POSITIVE,
                valid("M", "baseNet", "baseNet = @GatedStack(layers = 2, filters = 0, kernel = 3)"),
                "filters = 0", "baseNet.filters must be at least 1"),
            new Case(SpecError.FILTERS_BELOW_CHANNELS,
                multiscale("M", "channels = 3", "levels = 256", "size = 16", "base = 4",
                    "baseNet = @GatedStack(layers = 2, filters = 2, kernel = 3)",
                    "upscaling = @Upscaling(filters = 8, blocks = 1)", "conditioning = {}"),
                "filters = 2", "baseNet.filters = 2 is fewer than the 3 colour channels"),
            new Case(SpecError.SIZE_NOT_HALVING, valid("M", "size", "size = 24"), "size = 24", "size 24 does not halve down to base 4"),
            new Case(SpecError.KERNEL_EVEN,
                valid("M", "baseNet", "baseNet = @GatedStack(layers = 2, filters = 8, kernel = 4)"),
                "kernel = 4", "kernel 4 must be odd"),
            new Case(SpecError.KERNEL_TOO_LARGE,
                valid("M", "baseNet", "baseNet = @GatedStack(layers = 2, filters = 8, kernel = 11)"),
                "kernel = 11", "kernel 11 is too large for the 4×4 image"),
            new Case(SpecError.PATCH_FOR_TYPE_A,
                valid("M", "upscaling", "upscaling = @Upscaling(filters = 8, patch = 2)"),
                "patch = 2", "patch 2 is set but the upscaling type is A"),
            new Case(SpecError.PATCH_MISSING,
                valid("M", "upscaling", "upscaling = @Upscaling(filters = 8, type = UpscaleType.B)"),
                "upscaling = @Upscaling", "type-B upscaling needs patch"),
            new Case(SpecError.PATCH_NOT_DIVIDING,
                valid("M", "upscaling", "upscaling = @Upscaling(filters = 8, type = UpscaleType.B, patch = 3)"),
                "patch = 3", "type-B patch 3 does not divide 4"),
            new Case(SpecError.CONDITIONING_NOT_SPI,
                valid("M", "conditioning", "conditioning = {Conds.NotSpi.class}"),
                "Conds.NotSpi.class", "test.Conds.NotSpi does not implement dev.mspx.api.model.Conditioning"),
            new Case(SpecError.CONDITIONING_UNDESCRIBED,
                valid("M", "conditioning", "conditioning = {Conds.Bare.class}"),
                "Conds.Bare.class", "has no @ConditioningInput"),
            new Case(SpecError.CONDITIONING_DUPLICATE,
                valid("M", "conditioning", "conditioning = {Conds.Label.class, Conds.Label.class}"),
                "conditioning = {", "test.Conds.Label is listed more than once"),
            new Case(SpecError.CONDITIONING_WIDTH,
                valid("M", "conditioning", "conditioning = {Conds.Empty.class}"),
                "conditioning = {", "declares width 0"),
            new Case(SpecError.CONDITIONING_SPATIAL,
                valid("M", "conditioning", "conditioning = {Conds.Map.class}"),
                "conditioning = {", "SPATIAL conditioning, which plans do not wire yet"),
            new Case(SpecError.TWO_DECLARATIONS,
                source("Both", HEADER,
                    "@MultiscaleModel(channels = 1, size = 8, base = 4, baseNet = @GatedStack(layers = 1, filters = 4),",
                    "    upscaling = @Upscaling(filters = 4))",
                    "@RasterModel(channels = 1, size = 8, net = @GatedStack(layers = 1, filters = 4))",
                    "public interface Both {}"),
                "@RasterModel", "carries both @MultiscaleModel and @RasterModel"),
            new Case(SpecError.NOT_ACCESSIBLE,
                source("Outer", HEADER,
                    "public class Outer {",
                    "  @RasterModel(channels = 1, size = 8, net = @GatedStack(layers = 1, filters = 4, kernel = 3))",
                    "  public class Inner {}",
                    "}"),
                "@RasterModel", "test.Outer.Inner must be a top-level or static nested type"))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void reportsOnTheLineToBlame(Case c) {
    Compilation compilation = compile(c.source(), CONDITIONING);
    assertThat(compilation).failed();
    assertThat(compilation).hadErrorContaining(c.text()).inFile(c.source()).onLineContaining(c.line());
    assertThat(compilation).hadErrorContaining("[mspx." + c.error().name().toLowerCase().replace('_', '-') + "]");
  }

  @Test
  void everyDiagnosticHasATest() {
    Set<SpecError> tested = cases().map(a -> ((Case) a.get()[0]).error()).collect(Collectors.toSet());
    Set<SpecError> all = EnumSet.allOf(SpecError.class);
    all.removeAll(tested);
    assertEquals(Set.of(), all, "diagnostics without a test");
  }

  @Test
  void reportsEveryErrorOfOneDeclaration() {
    JavaFileObject broken =
        multiscale("Broken", "channels = 2", "levels = 1", "size = 24", "base = 4",
            "baseNet = @GatedStack(layers = 2, filters = 8, kernel = 4)",
            "upscaling = @Upscaling(filters = 8, blocks = 1)", "conditioning = {Conds.NotSpi.class}");
    Compilation compilation = compile(broken, CONDITIONING);
    assertThat(compilation).failed();
    assertThat(compilation).hadErrorContaining("channels must be").inFile(broken).onLineContaining("channels = 2");
    assertThat(compilation).hadErrorContaining("levels must lie").inFile(broken).onLineContaining("levels = 1");
    assertThat(compilation).hadErrorContaining("does not halve").inFile(broken).onLineContaining("size = 24");
    assertThat(compilation).hadErrorContaining("must be odd").inFile(broken).onLineContaining("kernel = 4");
    assertThat(compilation).hadErrorContaining("does not implement").inFile(broken).onLineContaining("NotSpi");
    assertThat(compilation).hadErrorCount(5);
  }

  @Test
  void reportsErrorsOfSeveralDeclarationsInOneCompilation() {
    JavaFileObject first = valid("First", "channels", "channels = 4");
    JavaFileObject second = valid("Second", "size", "size = 20");
    Compilation compilation = compile(first, second, CONDITIONING);
    assertThat(compilation).hadErrorContaining("channels must be").inFile(first).onLineContaining("channels = 4");
    assertThat(compilation).hadErrorContaining("size 20 does not halve").inFile(second).onLineContaining("size = 20");
  }

  @Test
  void validDeclarationsCompileIntoPlans() {
    JavaFileObject ok = valid("Fine", "conditioning", "conditioning = {Conds.Label.class}");
    JavaFileObject raster =
        source("Flat", HEADER,
            "@RasterModel(channels = 3, levels = 4, size = 8, net = @GatedStack(layers = 2, filters = 6, kernel = 3))",
            "public interface Flat {}");
    // Type-B upscaling is built, so it compiles like type A (it was refused with [mspx.type-b-not-built]).
    JavaFileObject typeB = valid("Patchy", "upscaling", "upscaling = @Upscaling(filters = 8, type = UpscaleType.B, patch = 2)");
    Compilation compilation = compile(ok, raster, typeB, CONDITIONING);
    assertThat(compilation).succeededWithoutWarnings();
    assertThat(compilation).generatedSourceFile("test.FinePlan");
    assertThat(compilation).generatedSourceFile("test.FlatPlan");
    assertThat(compilation).generatedSourceFile("test.PatchyPlan");
  }
}
