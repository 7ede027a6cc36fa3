package dev.mspx.core;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendSelection;
import dev.mspx.api.plan.ExecutionPlan;

/**
 * The Guice wiring: an injector is a plan plus exactly one backend module. Plans never name a backend;
 * the backend module is chosen by {@link BackendSelection} ({@code mspx.backend=cpu|cudnn|auto}) or
 * given explicitly (e.g. {@code new CpuBackendModule()}).
 */
public final class MspxModules {

  private MspxModules() {}

  /** An injector for {@code plan} on the backend that {@code backendModule} binds. */
  public static Injector injector(ExecutionPlan plan, Module backendModule) {
    return Guice.createInjector(new PlanModule(plan), backendModule);
  }

  /**
   * A module binding {@link Backend} to the backend that {@code selection} names ({@code cpu},
   * {@code cudnn} or {@code auto}); the choice and every fallback reason are logged.
   */
  public static Module backend(String selection) {
    BackendSelection.Choice choice = BackendSelection.choose(selection);
    return new AbstractModule() {
      @Provides
      @Singleton
      Backend backend() {
        return choice.provider().create();
      }
    };
  }

  /** Binds the plan and the parameters initialised from seed 0 on the bound backend. */
  static final class PlanModule extends AbstractModule {
    private final ExecutionPlan plan;

    PlanModule(ExecutionPlan plan) {
      this.plan = plan;
    }

    @Override
    protected void configure() {
      bind(ExecutionPlan.class).toInstance(plan);
    }

    @Provides
    @Singleton
    Parameters parameters(ExecutionPlan plan, Backend backend) {
      return Parameters.initialise(plan, backend, 0);
    }
  }
}
