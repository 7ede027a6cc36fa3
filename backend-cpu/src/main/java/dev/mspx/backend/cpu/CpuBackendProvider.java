package dev.mspx.backend.cpu;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendUnavailableException;
import java.util.List;

/**
 * Finds the CPU backend through {@link java.util.ServiceLoader}. It runs everywhere: with the Vector
 * API kernels ({@link CpuVectorBackend}) when {@code jdk.incubator.vector} is usable, else with the
 * scalar reference kernels, as {@link CpuKernels#choose()} decides (and logs); {@code
 * -Dmspx.cpu.kernels=reference|vector} forces one.
 */
public final class CpuBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public int priority() {
    return 10;
  }

  /**
   * Available unless {@code mspx.cpu.kernels} names no kernel set or forces vector kernels that
   * cannot run; the details say which kernels {@link #create()} would use, and why.
   */
  @Override
  public Availability availability() {
    String cores = "cores: " + Runtime.getRuntime().availableProcessors();
    CpuKernels.Choice choice;
    try {
      choice = CpuKernels.choose(System.getProperty(CpuKernels.PROPERTY));
    } catch (IllegalArgumentException e) {
      return Availability.no(e.getMessage(), List.of(cores));
    }
    if (choice.kernels() == null) {
      return Availability.no(choice.reason(), List.of(cores));
    }
    return Availability.yes(List.of(choice.describe(), cores));
  }

  @Override
  public Backend create() {
    CpuKernels.Choice choice;
    try {
      choice = CpuKernels.choose();
    } catch (IllegalArgumentException e) {
      throw new BackendUnavailableException("cpu: " + e.getMessage(), e);
    }
    if (choice.kernels() == null) {
      throw new BackendUnavailableException("cpu: " + choice.reason());
    }
    return choice.kernels().create();
  }
}
