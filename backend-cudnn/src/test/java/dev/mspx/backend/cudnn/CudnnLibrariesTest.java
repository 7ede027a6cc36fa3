package dev.mspx.backend.cudnn;

import static dev.mspx.backend.cudnn.NativeFixtures.elfLibrary;
import static dev.mspx.backend.cudnn.NativeFixtures.junkFile;
import static dev.mspx.backend.cudnn.NativeFixtures.search;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudnnLibrariesTest {

  @TempDir Path tmp;

  @Test
  void propertyWinsOverEnvironment() throws IOException {
    Path fromProperty = elfLibrary(tmp.resolve("property"), "libcudnn.so.9");
    Path fromEnv = elfLibrary(tmp.resolve("env"), "libcudnn.so.9");

    CudnnLibraries.Located cudnn =
        CudnnLibraries.discover(
                search(
                    fromProperty.getParent().toString(), fromEnv.getParent().toString(), List.of()))
            .cudnn();

    assertTrue(cudnn.loaded().isPresent(), cudnn.lookedIn().toString());
    assertEquals(fromProperty.toString(), cudnn.loaded().get().file());
    assertEquals("-Dmspx.cudnn.path=" + fromProperty.getParent(), cudnn.loaded().get().place());
    assertTrue(
        cudnn.lookedIn().stream()
            .anyMatch(
                s -> s.startsWith("MSPX_CUDNN_PATH=" + fromEnv.getParent() + " (not consulted")),
        cudnn.lookedIn().toString());
  }

  @Test
  void environmentIsUsedWhenThePropertyIsUnset() throws IOException {
    Path fromEnv = elfLibrary(tmp.resolve("env"), "libcudnn.so.9");

    CudnnLibraries.Located cudnn =
        CudnnLibraries.discover(search(null, fromEnv.getParent().toString(), List.of())).cudnn();

    assertEquals(fromEnv.toString(), cudnn.loaded().orElseThrow().file());
    assertEquals("-Dmspx.cudnn.path (unset)", cudnn.lookedIn().getFirst());
  }

  @Test
  void propertyMayNameTheLibraryFile() throws IOException {
    Path file = elfLibrary(tmp.resolve("custom"), "libcudnn.so.9.3.0");

    CudnnLibraries.Located cudnn =
        CudnnLibraries.discover(search(file.toString(), null, List.of())).cudnn();

    assertEquals(file.toString(), cudnn.loaded().orElseThrow().file());
  }

  @Test
  void explicitPathWithoutTheLibraryIsNamedAndStopsTheSearch() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    Path site = tmp.resolve("site-packages");
    elfLibrary(site.resolve("nvidia/cudnn/lib"), "libcudnn.so.9");

    CudnnLibraries.Located cudnn =
        CudnnLibraries.discover(search(empty.toString(), null, List.of(site))).cudnn();

    assertTrue(cudnn.loaded().isEmpty(), "an explicit path must not fall through to site-packages");
    String reason = cudnn.failure().orElseThrow();
    assertTrue(
        reason.startsWith("-Dmspx.cudnn.path=" + empty + " holds no loadable libcudnn.so.9"),
        reason);
    assertTrue(
        reason.contains("-Dmspx.cudnn.path=" + empty + " (no libcudnn.so.9, libcudnn.so)"), reason);
  }

  @Test
  void missingExplicitPathIsNamed() {
    Path nowhere = tmp.resolve("does-not-exist");

    String reason =
        CudnnLibraries.discover(search(null, nowhere.toString(), List.of()))
            .cudnn()
            .failure()
            .orElseThrow();

    assertTrue(
        reason.contains("MSPX_CUDNN_PATH=" + nowhere + " (no such file or directory)"), reason);
  }

  @Test
  void fileThatIsNotALibraryIsReportedAsSuch() throws IOException {
    Path junk = junkFile(tmp.resolve("junk"), "libcudnn.so.9");

    String reason =
        CudnnLibraries.discover(search(junk.getParent().toString(), null, List.of()))
            .cudnn()
            .failure()
            .orElseThrow();

    assertTrue(reason.contains(junk + " does not load: not an ELF shared library"), reason);
  }

  @Test
  void nothingFoundListsEveryPlaceInOrderAndWhatToInstall() {
    String reason =
        CudnnLibraries.discover(search(null, null, List.of())).cudnn().failure().orElseThrow();

    assertTrue(
        reason.startsWith(
            "libcudnn.so.9 not found; looked in: -Dmspx.cudnn.path (unset), MSPX_CUDNN_PATH"
                + " (unset), system loader (not consulted), Python site-packages (none found"),
        reason);
    assertTrue(reason.contains("pip install nvidia-cudnn-cu13"), reason);
    assertTrue(reason.contains("-Dmspx.cudnn.path"), reason);
  }

  @Test
  void sitePackagesWheelsAreFound() throws IOException {
    Path site = tmp.resolve("site-packages");
    Path cudnnFile = elfLibrary(site.resolve("nvidia/cudnn/lib"), "libcudnn.so.9");
    Path cudartFile = elfLibrary(site.resolve("nvidia/cu13/lib"), "libcudart.so.13");

    CudnnLibraries libraries = CudnnLibraries.discover(search(null, null, List.of(site)));

    assertEquals(cudnnFile.toString(), libraries.cudnn().loaded().orElseThrow().file());
    assertEquals(cudartFile.toString(), libraries.cudart().loaded().orElseThrow().file());
  }

  @Test
  void explicitPathDoesNotBindTheCudaRuntime() throws IOException {
    Path cudnnDir = Files.createDirectories(tmp.resolve("cudnn-only"));
    Path site = tmp.resolve("site-packages");
    Path cudart = elfLibrary(site.resolve("nvidia/cuda_runtime/lib"), "libcudart.so.12");

    CudnnLibraries.Located located =
        CudnnLibraries.discover(search(cudnnDir.toString(), null, List.of(site))).cudart();

    assertEquals(cudart.toString(), located.loaded().orElseThrow().file());
    assertTrue(
        located.lookedIn().getFirst().startsWith("-Dmspx.cudnn.path=" + cudnnDir + " (no "),
        located.lookedIn().toString());
  }

  @Test
  void sitePackagesAreScannedInPythonsOrder() throws IOException {
    Path root = tmp.resolve("root");
    Path home = root.resolve("home/user");
    Path pythonPath = Files.createDirectories(tmp.resolve("pythonpath"));
    Path venv = root.resolve("venv");
    List<Path> expected =
        List.of(
            pythonPath,
            venv.resolve("lib/python3.12/site-packages"),
            home.resolve(".local/lib/python3.11/site-packages"),
            root.resolve("usr/local/lib/python3.11/site-packages"),
            root.resolve("usr/local/lib/python3.11/dist-packages"),
            root.resolve("usr/local/lib/python3.9/dist-packages"),
            root.resolve("usr/lib/python3/dist-packages"));
    for (Path dir : expected) {
      Files.createDirectories(dir);
    }
    Files.createDirectories(root.resolve("usr/lib/python2.7/dist-packages")); // not Python 3

    List<Path> found =
        LibrarySearch.pythonSitePackages(
            Map.of(
                "PYTHONPATH",
                pythonPath + ":" + tmp.resolve("absent"),
                "VIRTUAL_ENV",
                venv.toString()),
            home,
            root);

    assertEquals(expected, found);
  }

  @Test
  void blankSettingsCountAsUnset() {
    LibrarySearch s = search(" ", "", List.of());
    assertFalse(s.pathProperty().isPresent());
    assertFalse(s.pathEnv().isPresent());
  }
  @Test
  void theRuntimeCudnnWasBuiltForIsPreferredOverAnEarlierPlaceWithAnother() throws IOException {
    Path explicit = elfLibrary(tmp.resolve("toolkit"), "libcudart.so.13").getParent();
    Path site = tmp.resolve("site-packages");
    Path wheel = elfLibrary(site.resolve("nvidia/cuda_runtime/lib"), "libcudart.so.12");
    LibrarySearch s = search(explicit.toString(), null, List.of(site));

    CudnnLibraries.Located for12 = CudnnLibraries.findCudart(s, Optional.of(12));
    assertEquals(wheel.toString(), for12.loaded().orElseThrow().file());

    CudnnLibraries.Located unknown = CudnnLibraries.findCudart(s, Optional.empty());
    assertEquals(explicit.resolve("libcudart.so.13").toString(), unknown.loaded().orElseThrow().file());
  }

  @Test
  void withoutTheMatchingRuntimeAnyIsTakenAndTheSearchSaysSo() throws IOException {
    Path explicit = elfLibrary(tmp.resolve("toolkit"), "libcudart.so.13").getParent();

    CudnnLibraries.Located located =
        CudnnLibraries.findCudart(search(explicit.toString(), null, List.of()), Optional.of(12));

    assertEquals(explicit.resolve("libcudart.so.13").toString(), located.loaded().orElseThrow().file());
    assertTrue(
        located.lookedIn().getFirst().startsWith("first for libcudart.so.12, the runtime cuDNN was built for: [-Dmspx.cudnn.path=" + explicit + " (no libcudart.so.12)"),
        located.lookedIn().toString());
  }
}
