package dev.mspx.backend.cpu;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.mspx.api.Backend;

/**
 * Binds {@link Backend} to the CPU reference backend, one per injector. The injector's owner closes it
 * (it is {@link AutoCloseable}); closing reports any tensor left open.
 */
public final class CpuBackendModule extends AbstractModule {

  @Provides
  @Singleton
  Backend backend() {
    return new CpuReferenceBackend();
  }
}
