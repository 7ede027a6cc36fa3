package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.model.GatedSpec;
import dev.mspx.api.model.ModelSpec;
import dev.mspx.api.model.UpscaleSpec;
import dev.mspx.core.BackendModule;
import java.util.ArrayList;
import java.util.List;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** device-check.sh's benchmark program, run on the CPU at toy sizes so that it works on the GPU. */
class DeviceBenchTest {

  @TempDir Path out;

  /** The same program on toy models (the real ones take minutes on a CPU). */
  @Test
  void measuresATrainingStepAndSamplingAndWritesTheirJson() throws IOException {
    ModelSpec train =
        ModelSpec.multiscale("tinytrain", 1, 256, 8, 2, new GatedSpec(2, 8, 3), UpscaleSpec.typeA(8, 1));
    ModelSpec sample =
        ModelSpec.multiscale("tinysample", 3, 256, 8, 2, new GatedSpec(2, 8, 3), UpscaleSpec.typeA(8, 1));
    List<String> json = new ArrayList<>();
    DeviceBench.run(BackendModule.select("cpu"), out, json, 2, 1, 2, 4, 2, train, sample);

    String written = Files.readString(out.resolve("java-bench.json"));
    assertTrue(
        written.matches("(?s).*\"tinytrain_step\": \\{\"batch\": 2, \"warmup\": 1, \"median_s\": [0-9.]+, .*"),
        written);
    // 2×2×3 base sub-pixels, then one upscaling to 4: 3 groups × (trunk + 3 heads).
    assertTrue(
        written.contains("\"tinysample_sample\": {\"size\": 4, \"batch\": 1, \"evaluations\": 24,"), written);
  }

  @Test
  void theBenchmarkedModelsAreDesignsTable() {
    assertEquals(28, DeviceBench.FASHION28.size());
    assertEquals(7, DeviceBench.FASHION28.base());
    assertEquals(new GatedSpec(6, 64, 5), DeviceBench.FASHION28.gated());
    assertEquals(512, DeviceBench.SPEED512.size());
    assertEquals(3, DeviceBench.SPEED512.channels());
    assertEquals(8, DeviceBench.SPEED512.base());
    assertEquals(UpscaleSpec.typeA(64, 4), DeviceBench.SPEED512.upscaling().orElseThrow());
  }
}
