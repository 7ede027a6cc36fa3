package dev.mspx.backend.cudnn;

import static dev.mspx.backend.cudnn.NativeFixtures.search;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendSelection;
import dev.mspx.api.BackendUnavailableException;
import dev.mspx.backend.cpu.CpuBackendProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * What a machine without a usable GPU sees: the reason is exact, {@code auto} falls back to the CPU
 * backend with a log line saying why, and an explicit {@code cudnn} fails with the reason.
 */
class NoGpuPathsTest {

  /** A provider that finds nothing: no library anywhere. */
  private static CudnnBackendProvider nothingInstalled() {
    return new CudnnBackendProvider(() -> search(null, null, List.of()));
  }

  @Test
  void autoFallsBackToTheCpuBackendAndLogsWhy() {
    BackendSelection.Choice choice =
        BackendSelection.choose("auto", List.of(nothingInstalled(), new CpuBackendProvider()));

    assertEquals("cpu", choice.provider().name());
    assertTrue(
        choice.log().getFirst().startsWith("backend auto: skipped cudnn, unavailable: libcudnn.so.9 not found; looked in: -Dmspx.cudnn.path (unset)"),
        choice.log().toString());
    assertEquals("backend auto: chose cpu", choice.log().getLast());
    try (Backend b = choice.provider().create()) {
      assertTrue(b.name().startsWith("cpu"), b.name());
    }
  }

  @Test
  void anExplicitCudnnChoiceFailsWithTheReason() {
    BackendUnavailableException e =
        assertThrows(
            BackendUnavailableException.class,
            () -> BackendSelection.choose("cudnn", List.of(nothingInstalled(), new CpuBackendProvider())));

    assertTrue(
        e.getMessage().startsWith("backend cudnn was asked for (mspx.backend=cudnn) but is unavailable: libcudnn.so.9 not found"),
        e.getMessage());
  }

  @Test
  void theServiceLoaderOffersCudnnBeforeTheCpu() {
    List<String> names = BackendSelection.providers().stream().map(BackendProvider::name).toList();
    assertEquals(List.of("cudnn", "cpu"), names);
  }

  @Test
  void creatingFailsWithTheReasons() {
    CudnnBackendProvider provider = nothingInstalled();
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class, provider::create);
    assertTrue(e.getMessage().startsWith("the cudnn backend cannot start: libcudnn.so.9 not found"), e.getMessage());
    assertTrue(e.getMessage().endsWith("; use --backend cpu"), e.getMessage());
  }

  /**
   * With the CUDA toolkit's runtime but no driver (this build machine), the device probe fails with
   * CUDA error 35 and says so by number, name and what to do.
   */
  @Test
  void aRuntimeWithoutDriverReportsCudaError35() {
    Path toolkit = Path.of("/usr/local/cuda/lib64");
    assumeTrue(Files.exists(toolkit.resolve("libcudart.so.13")), "no CUDA 13 toolkit runtime in " + toolkit);
    Optional<String> driver = DynamicLoader.loaderError(CudaDevice.DRIVER_LIBRARY);
    assumeTrue(driver.isPresent(), "this machine has an NVIDIA driver: the no-driver path cannot be seen here");

    Availability a = new CudnnBackendProvider(() -> search(toolkit.toString(), null, List.of())).availability();

    assertFalse(a.available());
    assertTrue(
        a.details().contains("libcudart: " + toolkit.resolve("libcudart.so.13") + " (via -Dmspx.cudnn.path=" + toolkit + ")"),
        a.details().toString());
    assertTrue(
        a.reasons().stream()
            .anyMatch(
                r ->
                    r.startsWith("cudaGetDeviceCount: CUDA error 35 cudaErrorInsufficientDriver")
                        && r.contains("no NVIDIA driver is installed or loaded")),
        a.reasons().toString());
  }

  @Test
  void withoutTheDriverLibraryTheDeviceCannotOpenAndSaysWhatToInstall() {
    Optional<String> driver = DynamicLoader.loaderError(CudaDevice.DRIVER_LIBRARY);
    if (driver.isEmpty()) {
      Path file = CudaDevice.locateDriver();
      assertTrue(file.isAbsolute(), file.toString());
      return;
    }
    IllegalStateException e = assertThrows(IllegalStateException.class, CudaDevice::locateDriver);
    assertTrue(
        e.getMessage().startsWith("libcuda.so.1 (the NVIDIA driver's CUDA library) does not load: "),
        e.getMessage());
    assertTrue(e.getMessage().contains("install the NVIDIA driver"), e.getMessage());
  }

  @Test
  void algorithmSettingsAreReadAndBadOnesNamed() {
    String old = System.getProperty(ConvolutionAlgorithms.SEARCH_PROPERTY);
    try {
      System.setProperty(ConvolutionAlgorithms.SEARCH_PROPERTY, "Benchmark");
      assertEquals(ConvolutionAlgorithms.Search.BENCHMARK, ConvolutionAlgorithms.fromSystemProperties().search);
      System.setProperty(ConvolutionAlgorithms.SEARCH_PROPERTY, "fastest");
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, ConvolutionAlgorithms::fromSystemProperties);
      assertEquals("-Dmspx.cudnn.algorithms=fastest is not one of heuristic, benchmark", e.getMessage());
    } finally {
      if (old == null) {
        System.clearProperty(ConvolutionAlgorithms.SEARCH_PROPERTY);
      } else {
        System.setProperty(ConvolutionAlgorithms.SEARCH_PROPERTY, old);
      }
    }
    ConvolutionAlgorithms defaults = ConvolutionAlgorithms.fromSystemProperties();
    assertEquals(ConvolutionAlgorithms.Search.HEURISTIC, defaults.search);
    assertEquals(1024L << 20, defaults.workspaceLimit);
  }
}
