package dev.mspx.testing.masking;

import dev.mspx.api.Backend;
import dev.mspx.backend.cpu.CpuReferenceBackend;

/** The scalar reference backend against the masking suite (and so against itself for agreement). */
class CpuReferenceMaskingTest extends MaskingPropertySuite {

  @Override
  protected Backend createBackend() {
    return new CpuReferenceBackend();
  }

  @Override
  protected Backend createReferenceBackend() {
    return new CpuReferenceBackend("cpu-reference-oracle");
  }
}
