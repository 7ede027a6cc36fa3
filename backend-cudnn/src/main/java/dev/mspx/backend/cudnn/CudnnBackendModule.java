package dev.mspx.backend.cudnn;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.mspx.api.Backend;

/**
 * Binds {@link Backend} to the cuDNN backend, one per injector. Provisioning fails with the
 * provider's reasons ({@link dev.mspx.api.BackendUnavailableException}, wrapped by Guice) where the
 * GPU or its libraries are missing; choose by availability with {@code MspxModules.backend("auto")}
 * to fall back to the CPU instead. The injector's owner closes the backend.
 */
public final class CudnnBackendModule extends AbstractModule {

  private final CudnnBackendProvider provider;

  public CudnnBackendModule() {
    this(new CudnnBackendProvider());
  }

  CudnnBackendModule(CudnnBackendProvider provider) {
    this.provider = provider;
  }

  @Provides
  @Singleton
  Backend backend() {
    return provider.create();
  }
}
