package dev.mspx.core;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendSelection;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The one route from a name to a backend: a Guice module that binds {@link Backend}, one instance per
 * injector. {@link #select} asks {@link BackendSelection} ({@code cpu}, {@code cudnn} or {@code auto},
 * every skipped backend's reason kept in {@link #log()}); {@link #of} binds a given factory, for tests
 * and tools that must run one particular kernel set. A {@link Model}'s injector holds exactly one such
 * module: two bindings of {@code Backend} fail when the injector is made.
 */
public final class BackendModule extends AbstractModule {

  private final String name;
  private final Supplier<? extends Backend> factory;
  private final List<String> log;

  private BackendModule(String name, Supplier<? extends Backend> factory, List<String> log) {
    this.name = name;
    this.factory = factory;
    this.log = List.copyOf(log);
  }

  /** The backend {@code selection} names ({@code cpu}, {@code cudnn}, {@code auto}); null means {@code auto}. */
  public static BackendModule select(String selection) {
    BackendSelection.Choice choice = BackendSelection.choose(selection);
    BackendProvider provider = choice.provider();
    return new BackendModule(provider.name(), provider::create, choice.log());
  }

  /** The backend {@code -Dmspx.backend} names, else the best available. */
  public static BackendModule fromSystemProperty() {
    return select(System.getProperty(BackendSelection.PROPERTY, "auto"));
  }

  /** Binds backends made by {@code factory} (e.g. {@code CpuReferenceBackend::new}), called {@code name}. */
  public static BackendModule of(String name, Supplier<? extends Backend> factory) {
    return new BackendModule(Objects.requireNonNull(name, "name"), Objects.requireNonNull(factory, "factory"), List.of("backend " + name + ": given"));
  }

  /** The chosen backend's name, e.g. {@code cpu}. */
  public String backendName() {
    return name;
  }

  /** Why this backend: the lines {@link BackendSelection} logged. */
  public List<String> log() {
    return log;
  }

  /** A backend from an injector of this module alone; the caller closes it. */
  public Backend create() {
    return Guice.createInjector(this).getInstance(Backend.class);
  }

  @Provides
  @Singleton
  Backend backend() {
    return factory.get();
  }
}
