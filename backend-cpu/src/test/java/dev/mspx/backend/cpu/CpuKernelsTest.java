package dev.mspx.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The choice between the reference and the vector kernels: the probe, the {@code mspx.cpu.kernels}
 * override, and what the provider and the Guice module make of them. The test JVM runs with {@code
 * --add-modules jdk.incubator.vector} (the parent pom's flags), so the vector kernels are usable here.
 */
class CpuKernelsTest {

  @AfterEach
  void clearProperty() {
    System.clearProperty(CpuKernels.PROPERTY);
  }

  @Test
  void vectorKernelsAreChosenWhenTheVectorApiIsUsable() {
    assertNull(CpuKernels.VectorSupport.unusableReason(), "the test JVM should have a usable Vector API");
    CpuKernels.Choice c = CpuKernels.choose((String) null);
    assertEquals(CpuKernels.VECTOR, c.kernels());
    assertTrue(c.describe().startsWith("kernels: vector ("), c.describe());
    assertEquals(CpuKernels.VECTOR, CpuKernels.choose("  ").kernels(), "blank means automatic");
  }

  @Test
  void thePropertyForcesEitherSetInAnyCase() {
    CpuKernels.Choice ref = CpuKernels.choose("Reference");
    assertEquals(CpuKernels.REFERENCE, ref.kernels());
    assertTrue(ref.reason().contains("forced by -Dmspx.cpu.kernels=Reference"), ref.reason());
    assertEquals(CpuKernels.VECTOR, CpuKernels.choose("VECTOR").kernels());
  }

  @Test
  void anUnknownValueListsTheKnownOptions() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CpuKernels.choose("avx"));
    assertEquals("unknown mspx.cpu.kernels 'avx', known options [reference, vector]", e.getMessage());
  }

  @Test
  void theProviderReportsAndCreatesTheChosenKernels() {
    CpuBackendProvider provider = new CpuBackendProvider();
    Availability a = provider.availability();
    assertTrue(a.available());
    assertTrue(a.details().get(0).startsWith("kernels: vector"), a.details().toString());
    try (Backend b = provider.create()) {
      assertInstanceOf(CpuVectorBackend.class, b);
    }
    System.setProperty(CpuKernels.PROPERTY, "reference");
    assertTrue(provider.availability().details().get(0).startsWith("kernels: scalar reference"));
    try (Backend b = provider.create()) {
      assertInstanceOf(CpuReferenceBackend.class, b);
    }
  }

  @Test
  void theProviderRefusesAnUnknownValueWithTheOptions() {
    System.setProperty(CpuKernels.PROPERTY, "gpu");
    CpuBackendProvider provider = new CpuBackendProvider();
    Availability a = provider.availability();
    assertFalse(a.available());
    assertTrue(a.summary().contains("known options [reference, vector]"), a.summary());
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class, provider::create);
    assertTrue(e.getMessage().contains("unknown mspx.cpu.kernels 'gpu'"), e.getMessage());
  }

  @Test
  void theProviderMakesTheKernelsThePropertyNames() {
    try (Backend b = new CpuBackendProvider().create()) {
      assertInstanceOf(CpuVectorBackend.class, b, "the vector kernels where they can run");
    }
    System.setProperty(CpuKernels.PROPERTY, "reference");
    try (Backend b = new CpuBackendProvider().create()) {
      assertInstanceOf(CpuReferenceBackend.class, b, "mspx.cpu.kernels=reference is honoured");
    }
  }
}
