package dev.mspx.testing;

import dev.mspx.api.Backend;
import dev.mspx.backend.cpu.CpuReferenceBackend;

/**
 * The scalar reference backend against the published conformance suite, at the default tolerances. It
 * lives here rather than in backend-cpu because backend-cpu's tests cannot depend on this module (see
 * backend-cpu/pom.xml): a downstream backend module extends the suite in its own tests as usual.
 */
class CpuReferenceConformanceTest extends BackendConformanceSuite {

  @Override
  protected Backend createBackend() {
    return new CpuReferenceBackend();
  }
}
