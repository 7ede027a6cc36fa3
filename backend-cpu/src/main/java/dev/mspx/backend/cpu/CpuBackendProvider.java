package dev.mspx.backend.cpu;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import java.util.List;

/** Finds the CPU backend through {@link java.util.ServiceLoader}; it is available everywhere. */
public final class CpuBackendProvider implements BackendProvider {

  @Override
  public String name() {
    return "cpu";
  }

  @Override
  public int priority() {
    return 10;
  }

  @Override
  public Availability availability() {
    return Availability.yes(
        List.of(
            "kernels: scalar reference (the oracle)",
            "cores: " + Runtime.getRuntime().availableProcessors()));
  }

  @Override
  public Backend create() {
    return new CpuReferenceBackend();
  }
}
