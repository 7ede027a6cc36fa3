package dev.mspx.backend.cpu;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.mspx.api.Backend;
import java.util.Objects;

/**
 * Binds {@link Backend} to a CPU backend, one per injector. The injector's owner closes it (it is
 * {@link AutoCloseable}); closing reports any tensor left open.
 *
 * <p>The kernels are explicit, because the two sets serve different purposes:
 *
 * <ul>
 *   <li>{@code new CpuBackendModule()} and {@link #reference()} bind the scalar reference backend, the
 *       oracle: deterministic, obviously correct, slow. Tests that compare against it or check exact
 *       behaviour use it.
 *   <li>{@link #vector()} binds {@link CpuVectorBackend}; it fails at injection when the Vector API
 *       cannot run here.
 *   <li>{@link #selected()} binds what {@link CpuBackendProvider} (and so {@code --backend cpu})
 *       would: the vector kernels where they can run, {@code -Dmspx.cpu.kernels} honoured, the choice
 *       logged. Applications want this one.
 * </ul>
 */
public final class CpuBackendModule extends AbstractModule {

  /** Null: decide at injection time, as the provider does. */
  private final CpuKernels kernels;

  /** The reference kernels (the oracle), as before the vector kernels existed. */
  public CpuBackendModule() {
    this(CpuKernels.REFERENCE);
  }

  private CpuBackendModule(CpuKernels kernels) {
    this.kernels = kernels;
  }

  /** Binds the scalar reference backend. */
  public static CpuBackendModule reference() {
    return new CpuBackendModule(CpuKernels.REFERENCE);
  }

  /** Binds the Vector API backend. */
  public static CpuBackendModule vector() {
    return new CpuBackendModule(CpuKernels.VECTOR);
  }

  /** Binds the kernels {@link CpuKernels#choose()} picks for this JVM. */
  public static CpuBackendModule selected() {
    return new CpuBackendModule(null);
  }

  /** Binds {@code kernels}. */
  public static CpuBackendModule of(CpuKernels kernels) {
    return new CpuBackendModule(Objects.requireNonNull(kernels, "kernels"));
  }

  @Provides
  @Singleton
  Backend backend() {
    return kernels != null ? kernels.create() : new CpuBackendProvider().create();
  }
}
