package dev.mspx.testing;

import dev.mspx.api.Backend;
import dev.mspx.backend.cpu.CpuVectorBackend;

/**
 * The Vector API backend against the published conformance suite, at the default tolerances. Here
 * rather than in backend-cpu for the same reason as {@link CpuReferenceConformanceTest}.
 */
class CpuVectorConformanceTest extends BackendConformanceSuite {

  @Override
  protected Backend createBackend() {
    return new CpuVectorBackend();
  }
}
