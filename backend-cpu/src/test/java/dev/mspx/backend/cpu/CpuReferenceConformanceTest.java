package dev.mspx.backend.cpu;

import dev.mspx.api.Backend;
import dev.mspx.testing.BackendConformanceSuite;

/** The scalar reference backend against the published conformance suite, at the default tolerances. */
class CpuReferenceConformanceTest extends BackendConformanceSuite {

  @Override
  protected Backend createBackend() {
    return new CpuReferenceBackend();
  }
}
