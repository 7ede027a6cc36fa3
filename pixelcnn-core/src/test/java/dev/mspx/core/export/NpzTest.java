package dev.mspx.core.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.model.ConditioningKind;
import dev.mspx.api.model.ConditioningSpec;
import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelKind;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzTest {

  /** What {@code numpy.save} (numpy 1.24) writes for the same arrays, byte for byte. */
  private static final String[] NUMPY = {
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a000000000000003f0000803f0000c03f0000004000002040",
    "934e554d5059010076007b276465736372273a20277c7531272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028332c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0102fa",
    "934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200affffffffffffffff0700000000000000",
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028302c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a",
  };

  private static Npz.Array[] arrays() {
    return new Npz.Array[] {
      Npz.Array.ofFloats(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f}, 2, 3),
      Npz.Array.ofBytes(new byte[] {1, 2, (byte) 250}, 3),
      Npz.Array.ofLongs(new long[] {-1, 7}, 2),
      Npz.Array.ofFloats(new float[0], 0),
    };
  }

  @Test
  void npyBytesAreNumpys() {
    Npz.Array[] a = arrays();
    for (int i = 0; i < a.length; i++) {
      assertEquals(NUMPY[i], HexFormat.of().formatHex(Npz.npy(a[i])), "array " + i);
    }
  }

  @Test
  void numpysBytesParseBack() {
    Npz.Array[] a = arrays();
    for (int i = 0; i < a.length; i++) {
      Npz.Array back = Npz.parseNpy(HexFormat.of().parseHex(NUMPY[i]), "array " + i);
      assertEquals(a[i].descr(), back.descr());
      assertArrayEquals(a[i].shape(), back.shape());
      assertArrayEquals(a[i].data(), back.data());
    }
  }

  @Test
  void notAnNpyIsRefusedByName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Npz.parseNpy(new byte[20], "x.npy"));
    assertTrue(e.getMessage().startsWith("x.npy is not a .npy array"), e.getMessage());
  }

  /**
   * An export holds every parameter under its plan name and shape with the model's values, every mask,
   * and metadata naming both lists and the whole spec (what the peer builds its model from).
   */
  @Test
  void exportHoldsParametersMasksAndSpec(@TempDir Path dir) throws Exception {
    ModelSpec spec = ModelSpec.builder().name("TinyExport").kind(ModelKind.MULTISCALE).channels(3).levels(4).size(4).base(2)
        .gated(new GatedSpec(2, 6, 3)).upscaling(UpscaleSpec.typeA(6, 1))
        .addConditioning(new ConditioningSpec("test.Label", ConditioningKind.CLASS_LABEL, 3)).build();
    ExecutionPlan plan = PlanBuilder.build(spec);
    Path file = dir.resolve("tiny.npz");
    try (Model model = Model.create(plan, BackendModule.of("reference", CpuReferenceBackend::new), 4)) {
      PeerExport.write(model, file);
      Map<String, Npz.Array> read = Npz.read(file);
      assertEquals(1 + plan.parameters().size() + plan.masks().size(), read.size());
      String meta = read.get(PeerExport.META).text();
      assertTrue(meta.startsWith("{\"format\": \"mspx-npz\", \"version\": 1, \"model\": \"tiny-export\""), meta);
      assertTrue(meta.contains("\"spec\": {\"kind\": \"multiscale\", \"channels\": 3, \"levels\": 4, \"size\": 4, \"base\": 2, \"layers\": 2, \"filters\": 6,"
          + " \"kernel\": 3, \"up_filters\": 6, \"up_blocks\": 1, \"head_layers\": 2, \"up_type\": \"A\", \"patch\": 0,"
          + " \"conditioning\": [{\"name\": \"Label\", \"kind\": \"CLASS_LABEL\", \"width\": 3}]}"), meta);
      for (ParameterSpec p : plan.parameters()) {
        Npz.Array a = read.get(p.name());
        assertArrayEquals(model.parameters().read(p.name()), a.floats(), p.name());
        assertEquals(plan.slot(p.slot()).shape().elements(), a.elements(), p.name());
        assertTrue(meta.contains("\"" + p.name() + "\""), p.name());
      }
      plan.masks().forEach((id, m) -> assertArrayEquals(m.values(), read.get(plan.slot(id).name()).floats(), plan.slot(id).name()));
    }
  }
}
