package dev.mspx.spark.nccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.backend.cpu.CpuReferenceBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NCCL's discovery and refusals, as far as a machine without a GPU (and usually without NCCL) goes. */
class NcclLibraryTest {

  @TempDir Path dir;

  @Test
  void anExplicitPathIsBindingAndEachPlaceIsReported() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    NcclLibrary.Search s = NcclLibrary.find(Optional.of(empty.toString()), Optional.of("/elsewhere"), true, List.of());
    assertFalse(s.found());
    assertEquals(List.of("-Dmspx.nccl.path=" + empty + ": no " + empty.resolve("libnccl.so.2")), s.looked(),
        "the property wins over the environment, and the search stops there");
    assertTrue(s.describe().contains("pip install nvidia-nccl-cu12"), s.describe());

    Path fake = Files.writeString(dir.resolve("libnccl.so.2"), "not a library");
    NcclLibrary.Search f = NcclLibrary.find(Optional.empty(), Optional.of(fake.toString()), true, List.of());
    assertEquals(List.of("MSPX_NCCL_PATH=" + fake + ": " + fake + " is not an ELF shared library"), f.looked());
  }

  @Test
  void wheelsInSitePackagesAreSearchedAfterTheSystemLoader() throws Exception {
    Path site = Files.createDirectories(dir.resolve("lib/python3.12/site-packages"));
    Path lib = Files.createDirectories(site.resolve("nvidia/nccl/lib"));
    Files.write(lib.resolve("libnccl.so.2"), new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0}); // an ELF header and nothing else
    NcclLibrary.Search s = NcclLibrary.find(Optional.empty(), Optional.empty(), false, List.of(site));
    assertFalse(s.found());
    assertTrue(s.looked().getFirst().startsWith(lib.resolve("libnccl.so.2") + ": " + lib.resolve("libnccl.so.2") + " does not load"), s.looked().toString());
  }

  @Test
  void sitePackagesAreListedNewestPythonFirst() throws Exception {
    Path root = dir.resolve("root");
    Path older = Files.createDirectories(root.resolve("usr/lib/python3.9/dist-packages"));
    Path newer = Files.createDirectories(root.resolve("usr/lib/python3.12/dist-packages"));
    Path venv = Files.createDirectories(dir.resolve("venv/lib/python3.11/site-packages"));
    List<Path> found = NcclLibrary.sitePackages(Map.of("VIRTUAL_ENV", dir.resolve("venv").toString()), dir.resolve("home"), root);
    assertEquals(List.of(venv, newer, older), found);
  }

  @Test
  void theCpuBackendIsRefusedWithWhatToDo() {
    try (CpuReferenceBackend cpu = new CpuReferenceBackend()) {
      String why = NcclExchange.unavailable(cpu, new NcclLibrary.Search(Optional.empty(), "", List.of("x")));
      assertTrue(why.contains("give --backend cudnn on executors with GPUs, or --collective ring"), why);
      NcclException e = assertThrows(NcclException.class, () -> NcclExchange.connect(cpu, 0, 1, m -> List.of(m), (a, r, s) -> {}, 0));
      assertTrue(e.getMessage().startsWith("NCCL unavailable on replica 0: the nccl collective exchanges GPU memory"), e.getMessage());
    }
  }

  /**
   * Where this machine has NCCL (found as ./mspx would find it; no GPU needed): the bindings call it.
   * Skipped where it has none, which is the usual case for the tests.
   */
  @Test
  void whereNcclIsInstalledTheBindingsCallIt() {
    assertEquals(128, Nccl.UNIQUE_ID.byteSize(), "ncclUniqueId is passed by value: its layout must be exact");
    NcclLibrary.Search found = NcclLibrary.find();
    org.junit.jupiter.api.Assumptions.assumeTrue(found.found(), found::describe);
    Nccl nccl = new Nccl(found.symbols().orElseThrow());
    assertTrue(nccl.version() >= 20400, "NCCL " + nccl.version());
    assertEquals(128, nccl.uniqueId().length);
    assertEquals("no error", nccl.errorString(Nccl.SUCCESS));
  }
}
