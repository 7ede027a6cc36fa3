package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.api.plan.PlanProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelCatalogTest {

  private static PlanProvider provider(String name, String declaration, ModelSpec spec) {
    return new PlanProvider() {
      public String name() {
        return name;
      }

      public String declaration() {
        return declaration;
      }

      public ModelSpec spec() {
        return spec;
      }

      public long parameterCount() {
        return plan().parameterCount();
      }

      public ExecutionPlan plan() {
        return PlanBuilder.build(spec);
      }
    };
  }

  @Test
  void namesAreKebabCaseOfTheDeclaration() {
    assertEquals("fashion28-raster", ModelSpec.catalogName("Fashion28Raster"));
    assertEquals("my-faces", ModelSpec.catalogName("MyFaces"));
    assertEquals("speed512", ModelSpec.catalogName("Speed512"));
    assertEquals("outer-inner", ModelSpec.catalogName("Outer_Inner"));
    assertEquals("hdrfaces", ModelSpec.catalogName("HDRFaces"), "no hyphen inside a run of capitals");
  }

  @Test
  void twoModelsOfOneNameAreAnErrorNamingBoth() {
    ModelSpec spec = TinyModels.multiscaleGrey();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> ModelCatalog.of(List.of(
        provider("faces", "a.Faces", spec), provider("faces", "b.Faces", spec)), List.of()));
    assertTrue(e.getMessage().contains("a.Faces") && e.getMessage().contains("b.Faces"), e.getMessage());
  }

  @Test
  void lookupsByNameAndByFingerprint() {
    ModelSpec grey = TinyModels.multiscaleGrey(), raster = TinyModels.rasterGrey();
    ModelCatalog catalog = ModelCatalog.of(List.of(provider("grey", "t.Grey", grey), provider("raster", "t.Raster", raster)), List.of());
    assertEquals(List.of("grey", "raster"), catalog.names());
    assertEquals(raster, catalog.plan("raster").spec());
    assertEquals("t.Grey", catalog.byFingerprint(grey.fingerprint()).orElseThrow().declaration());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> catalog.plan("faces"));
    assertTrue(e.getMessage().contains("no compiled model called 'faces'") && e.getMessage().contains("[grey, raster]"), e.getMessage());
  }
}
