package dev.mspx.testing.masking;

import dev.mspx.api.Backend;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;

/** The Vector API backend against the masking suite, agreeing with the scalar reference. */
class CpuVectorMaskingTest extends MaskingPropertySuite {

  @Override
  protected Backend createBackend() {
    return new CpuVectorBackend();
  }

  @Override
  protected Backend createReferenceBackend() {
    return new CpuReferenceBackend();
  }
}
