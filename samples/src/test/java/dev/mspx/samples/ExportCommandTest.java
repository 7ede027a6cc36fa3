package dev.mspx.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.core.BackendModule;
import dev.mspx.core.Model;
import dev.mspx.core.export.Npz;
import dev.mspx.core.export.PeerExport;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code mspx export}: a checkpoint to an .npz with the checkpoint's values; a wrong --out is one line. */
class ExportCommandTest {

  @TempDir Path dir;

  private int run(StringWriter out, StringWriter err, String... args) {
    CommandLine cli = Main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    return cli.execute(args);
  }

  @Test
  void exportsTheCheckpointsParameters() throws Exception {
    Path checkpoint = dir.resolve("f28.arrow");
    Path npz = dir.resolve("f28.npz");
    try (Model model = Model.create("fashion28", BackendModule.select("cpu"), 3)) {
      model.save(checkpoint);
      StringWriter out = new StringWriter(), err = new StringWriter();
      assertEquals(0, run(out, err, "export", "--checkpoint", checkpoint.toString(), "--out", npz.toString(), "--backend", "cpu"), err.toString());
      assertTrue(out.toString().startsWith("wrote " + npz + ": fashion28 ("), out.toString());
      Map<String, Npz.Array> arrays = Npz.read(npz);
      assertTrue(arrays.get(PeerExport.META).text().contains("\"fingerprint\": \"" + model.spec().fingerprint() + "\""));
      for (ParameterSpec p : model.plan().parameters()) {
        assertArrayEquals(model.parameters().read(p.name()), arrays.get(p.name()).floats(), p.name());
      }
    }
  }

  @Test
  void anOutputThatIsNotNpzIsOneLine() throws Exception {
    Path checkpoint = dir.resolve("f28.arrow");
    try (Model model = Model.create("fashion28", BackendModule.select("cpu"), 3)) {
      model.save(checkpoint);
    }
    StringWriter out = new StringWriter(), err = new StringWriter();
    assertEquals(1, run(out, err, "export", "--checkpoint", checkpoint.toString(), "--out", dir.resolve("w.zip").toString()));
    assertEquals("mspx: --out " + dir.resolve("w.zip") + ": name the file FILE.npz (numpy loads it by that suffix)", err.toString().strip());
    assertFalse(Files.exists(dir.resolve("w.zip")));
  }
}
