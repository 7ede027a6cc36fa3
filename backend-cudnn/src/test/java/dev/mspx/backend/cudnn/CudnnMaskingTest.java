package dev.mspx.backend.cudnn;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.testing.masking.MaskingPropertySuite;
import org.junit.jupiter.api.BeforeAll;

/**
 * The masking kit against {@link CudnnBackend}: causality, no blind spot, generation order and
 * normalisation on generated plans, and step-by-step agreement with the scalar reference, on the
 * GPU. Skipped with the provider's exact reasons where the backend cannot start.
 */
class CudnnMaskingTest extends MaskingPropertySuite {

  private static final CudnnBackendProvider PROVIDER = new CudnnBackendProvider();

  @BeforeAll
  static void needsAGpu() {
    Availability a = PROVIDER.availability();
    assumeTrue(a.available(), () -> "cudnn is " + a.summary());
  }

  @Override
  protected Backend createBackend() {
    return PROVIDER.create();
  }

  @Override
  protected Backend createReferenceBackend() {
    return new CpuReferenceBackend();
  }
}
