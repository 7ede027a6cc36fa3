package dev.mspx.codegen;

import static com.google.testing.compile.CompilationSubject.assertThat;
import static com.google.testing.compile.Compiler.javac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;

/**
 * The generated source of a small declaration, checked in as {@code src/test/resources/golden/}: a
 * change to the generator shows up as a readable diff. After an intended change, regenerate with
 * {@code ./mvnw -pl codegen test -Dtest=GoldenPlanTest -Dmspx.golden.update=true} and review the diff.
 */
class GoldenPlanTest {

  private static final Path GOLDEN =
      Path.of(System.getProperty("basedir", "."), "src/test/resources/golden/TinyPlan.java");

  static final JavaFileObject TINY =
      JavaFileObjects.forSourceLines(
          "golden.Tiny",
          "package golden;",
          "import dev.mspx.api.model.*;",
          "/** Two scales of a 4×4 binary image from a 2×2 base, colour-free: small enough to read. */",
          "@MultiscaleModel(channels = 1, levels = 2, size = 4, base = 2,",
          "    baseNet = @GatedStack(layers = 2, filters = 4, kernel = 3),",
          "    upscaling = @Upscaling(filters = 4, blocks = 1))",
          "public interface Tiny {}");

  @Test
  void generatedSourceMatchesTheGoldenFile() throws IOException {
    Compilation compilation = javac().withProcessors(new PlanProcessor()).compile(TINY);
    assertThat(compilation).succeeded();
    String generated =
        compilation.generatedSourceFile("golden.TinyPlan").orElseThrow().getCharContent(true).toString();
    if (Boolean.getBoolean("mspx.golden.update")) {
      Files.createDirectories(GOLDEN.getParent());
      Files.writeString(GOLDEN, generated, StandardCharsets.UTF_8);
      return;
    }
    if (!Files.exists(GOLDEN)) {
      fail("no golden file at " + GOLDEN.toAbsolutePath() + ": run with -Dmspx.golden.update=true");
    }
    List<String> want = Files.readAllLines(GOLDEN, StandardCharsets.UTF_8);
    List<String> got = generated.lines().toList();
    for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
      assertEquals(want.get(i), got.get(i), "generated TinyPlan.java differs from the golden file at line " + (i + 1)
          + " (regenerate with -Dmspx.golden.update=true if the change is intended)");
    }
    assertEquals(want.size(), got.size(), "generated TinyPlan.java has a different number of lines than the golden file");
  }
}
