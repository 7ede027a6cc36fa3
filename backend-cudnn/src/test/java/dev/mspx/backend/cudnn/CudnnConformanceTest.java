package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.testing.BackendConformanceSuite;
import org.junit.jupiter.api.BeforeAll;

/**
 * The published conformance suite against {@link CudnnBackend}: every op against the float64
 * oracle and finite differences, on the GPU. Where the backend cannot start (no GPU, driver or
 * cuDNN), every test is reported as skipped with the provider's exact reasons: an environment this
 * suite cannot run in, not a pass.
 */
class CudnnConformanceTest extends BackendConformanceSuite {

  private static final CudnnBackendProvider PROVIDER = new CudnnBackendProvider();

  @BeforeAll
  static void needsAGpu() {
    Availability a = PROVIDER.availability();
    if (!a.available()) {
      System.out.println("CudnnConformanceTest skipped: cudnn is " + a.summary());
    }
    assumeTrue(a.available(), () -> "cudnn is " + a.summary());
  }

  @Override
  protected Backend createBackend() {
    return PROVIDER.create();
  }
}
