package dev.mspx.backend.cudnn;

import static dev.mspx.backend.cudnn.NativeFixtures.elfLibrary;
import static dev.mspx.backend.cudnn.NativeFixtures.search;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendUnavailableException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CudnnBackendProviderTest {

  @TempDir Path tmp;

  @Test
  void isFoundByServiceLoader() {
    assertTrue(
        ServiceLoader.load(BackendProvider.class).stream()
            .anyMatch(p -> p.type() == CudnnBackendProvider.class));
    CudnnBackendProvider p = new CudnnBackendProvider();
    assertEquals("cudnn", p.name());
    assertEquals(100, p.priority());
  }

  @Test
  void withNothingInstalledItSaysCudnnIsNotFoundAndWhere() {
    Availability a = new CudnnBackendProvider(() -> search(null, null, List.of())).availability();

    assertFalse(a.available());
    assertTrue(
        a.reasons()
            .getFirst()
            .startsWith("libcudnn.so.9 not found; looked in: -Dmspx.cudnn.path (unset)"),
        a.reasons().toString());
    assertTrue(
        a.reasons().get(1).startsWith("libcudart.so.13 not found; looked in:"),
        a.reasons().toString());
    assertEquals(2, a.reasons().size(), a.reasons().toString());
    assertTrue(a.summary().startsWith("unavailable: libcudnn.so.9 not found"), a.summary());
  }

  @Test
  void createThrowsWithTheReasons() {
    CudnnBackendProvider p = new CudnnBackendProvider(() -> search(null, null, List.of()));

    BackendUnavailableException e = assertThrows(BackendUnavailableException.class, p::create);

    for (String reason : p.availability().reasons()) {
      assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
    assertTrue(e.getMessage().contains("use --backend cpu"), e.getMessage());
  }

  @Test
  void aLibraryThatIsNotCudnnIsCalledOut() throws IOException {
    Path notCudnn = elfLibrary(tmp.resolve("lib"), "libcudnn.so.9");

    Availability a =
        new CudnnBackendProvider(() -> search(notCudnn.getParent().toString(), null, List.of()))
            .availability();

    assertFalse(a.available());
    assertTrue(
        a.details()
            .contains(
                "libcudnn: " + notCudnn + " (via -Dmspx.cudnn.path=" + notCudnn.getParent() + ")"),
        a.details().toString());
    assertTrue(
        a.reasons()
            .getFirst()
            .equals(
                notCudnn
                    + " has no cudnnGetVersion, so it is not cuDNN; point -Dmspx.cudnn.path at"
                    + " cuDNN 9's libcudnn.so.9"),
        a.reasons().toString());
  }

  @Test
  void availabilityNeverThrows() {
    Availability a =
        new CudnnBackendProvider(
                () -> {
                  throw new IllegalStateException("boom");
                })
            .availability();

    assertFalse(a.available());
    assertTrue(a.reasons().getFirst().contains("boom"), a.reasons().toString());
  }

  /**
   * On this machine as it is: never assumes a GPU, nor its absence. Available means a device was
   * opened and a backend starts; unavailable means reasons, the first about cuDNN when it is absent.
   */
  @Test
  void onThisMachineItReportsWhatItFound() {
    CudnnBackendProvider p = new CudnnBackendProvider();
    Availability a = p.availability();

    if (a.available()) {
      assertTrue(a.reasons().isEmpty(), a.reasons().toString());
      assertTrue(
          a.details().stream().anyMatch(d -> d.startsWith("compute on device ")),
          a.details().toString());
      try (Backend b = p.create()) {
        assertEquals("cudnn", b.name());
      }
      return;
    }
    assertFalse(a.reasons().isEmpty());
    boolean cudnnLoaded = a.details().stream().anyMatch(d -> d.startsWith("libcudnn: "));
    assertTrue(
        cudnnLoaded
            || a.reasons().getFirst().contains("libcudnn.so.9 not found")
            || a.reasons().getFirst().contains("holds no loadable libcudnn"),
        a.reasons().toString());
  }

  /**
   * Where the CUDA runtime loads, the device probe either reports a failing status by number and
   * name (error 35 with no driver, 100 with no device) or sees at least one device.
   */
  @Test
  void cudaProbeReportsStatusByNumberAndName() {
    CudnnLibraries.Located cudart =
        CudnnLibraries.discover(
                new LibrarySearch(Optional.empty(), Optional.empty(), true, List.of()))
            .cudart();
    if (cudart.loaded().isEmpty()) {
      assertTrue(
          cudart.failure().orElseThrow().startsWith("libcudart.so.13 not found"),
          cudart.failure().toString());
      return;
    }
    CudaRuntimeProbe.Result r = new CudaRuntimeProbe(cudart.loaded().get().symbols()).probe();
    assertTrue(r.runtimeVersion() >= 12000, "runtime version " + r.runtimeVersion());
    if (r.deviceStatus().ok()) {
      assertEquals(r.deviceCount(), r.devices().size());
      return;
    }
    assertTrue(
        Pattern.matches(
            "CUDA error [1-9][0-9]* cudaError\\w+ \\(.+\\)", r.deviceStatus().describe()),
        r.deviceStatus().describe());

    Availability a = new CudnnBackendProvider().availability();
    assertTrue(
        a.reasons().stream()
            .anyMatch(
                s -> s.startsWith("cudaGetDeviceCount: CUDA error " + r.deviceStatus().code())),
        a.reasons().toString());
  }
}
