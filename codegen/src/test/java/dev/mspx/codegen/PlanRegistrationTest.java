package dev.mspx.codegen;

import static com.google.testing.compile.CompilationSubject.assertThat;
import static com.google.testing.compile.Compiler.javac;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import java.io.IOException;
import java.util.List;
import javax.tools.JavaFileObject;
import javax.tools.StandardLocation;
import org.junit.jupiter.api.Test;

/**
 * Every compiled declaration is listed in the service file that {@code ServiceLoader} reads, under the
 * binary name of its generated provider, and the provider names the model as users call it.
 */
class PlanRegistrationTest {

  private static final JavaFileObject FACES =
      JavaFileObjects.forSourceLines(
          "shop.models.MyFaces",
          "package shop.models;",
          "import dev.mspx.api.model.*;",
          "@MultiscaleModel(channels = 3, levels = 4, size = 8, base = 4,",
          "    baseNet = @GatedStack(layers = 2, filters = 6, kernel = 3),",
          "    upscaling = @Upscaling(filters = 6, blocks = 1))",
          "public interface MyFaces {",
          "  @RasterModel(channels = 1, levels = 2, size = 4, net = @GatedStack(layers = 2, filters = 4, kernel = 3))",
          "  interface Baseline {}",
          "}");

  @Test
  void everyPlanIsListedInTheServiceFile() throws IOException {
    Compilation compilation = javac().withProcessors(new PlanProcessor()).compile(FACES, GoldenPlanTest.TINY);
    assertThat(compilation).succeeded();
    String file = compilation.generatedFile(StandardLocation.CLASS_OUTPUT, PlanProcessor.SERVICE_FILE).orElseThrow()
        .getCharContent(true).toString();
    List<String> entries = file.lines().filter(l -> !l.startsWith("#")).toList();
    assertEquals(List.of("golden.TinyPlan$Provider", "shop.models.MyFacesPlan$Provider", "shop.models.MyFaces_BaselinePlan$Provider"), entries);
    String provider = compilation.generatedSourceFile("shop.models.MyFaces_BaselinePlan").orElseThrow().getCharContent(true).toString();
    assertThat(compilation).generatedSourceFile("shop.models.MyFacesPlan").contentsAsUtf8String().contains("return \"my-faces\";");
    assertThat(compilation).generatedSourceFile("shop.models.MyFacesPlan").contentsAsUtf8String().contains("return \"shop.models.MyFaces\";");
    assertEquals(true, provider.contains("return \"my-faces-baseline\";"), provider);
  }
}
