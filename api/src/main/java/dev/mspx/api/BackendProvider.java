package dev.mspx.api;

/**
 * How a backend is found: implementations are listed in {@code
 * META-INF/services/dev.mspx.api.BackendProvider} and loaded with {@link java.util.ServiceLoader}. A
 * provider probes cheaply and never throws from {@link #availability()}: it reports.
 */
public interface BackendProvider {

  /** The name users select it by: {@code cpu}, {@code cudnn}. */
  String name();

  /** Higher wins when the backend is chosen automatically (cuDNN over CPU). */
  int priority();

  /** Probes the machine; the result says why not when the backend cannot start. */
  Availability availability();

  /**
   * Starts the backend.
   *
   * @throws BackendUnavailableException with the reasons of {@link #availability()} when it cannot
   */
  Backend create();
}
