package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CudaStatusTest {

  @Test
  void knownCodesHaveTheirCudaNames() {
    assertEquals(
        "CUDA error 35 cudaErrorInsufficientDriver"
            + " (CUDA driver version is insufficient for CUDA runtime version)",
        CudaStatus.of(35).describe());
    assertEquals("cudaErrorNoDevice", CudaStatus.of(100).name());
    assertEquals("cudaErrorInitializationError", CudaStatus.of(3).name());
    assertTrue(CudaStatus.of(0).ok());
    assertFalse(CudaStatus.of(35).ok());
    assertEquals(
        "CUDA error 12345 cudaError 12345 (no description known to mspx)",
        CudaStatus.of(12345).describe());
  }

  /** Where a CUDA runtime loads, its own names for the codes agree with the table. */
  @Test
  void tableAgreesWithTheRuntimeWhereOneLoads() {
    Optional<CudnnLibraries.Loaded> cudart =
        CudnnLibraries.discover(
                new LibrarySearch(Optional.empty(), Optional.empty(), true, List.of()))
            .cudart()
            .loaded();
    if (cudart.isEmpty()) {
      return; // nothing to compare with on this machine
    }
    CudaRuntimeProbe probe = new CudaRuntimeProbe(cudart.get().symbols());
    for (int code : List.of(0, 3, 35, 100)) {
      assertEquals(CudaStatus.of(code).name(), probe.status(code).name(), "code " + code);
    }
  }
}
