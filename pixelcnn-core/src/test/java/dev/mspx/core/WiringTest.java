package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.CreationException;
import com.google.inject.Injector;
import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendSelection;
import dev.mspx.api.BackendUnavailableException;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuBackendModule;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class WiringTest {

  @Test
  void injectorBindsThePlanAndOneBackend() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    Injector injector = MspxModules.injector(plan, new CpuBackendModule());
    Backend backend = injector.getInstance(Backend.class);
    assertSame(backend, injector.getInstance(Backend.class), "one backend per injector");
    assertSame(plan, injector.getInstance(ExecutionPlan.class));
    try (Parameters p = injector.getInstance(Parameters.class); PlanRuntime rt = new PlanRuntime(p, 1)) {
      assertEquals(plan.parameterCount(), plan.parameters().stream()
          .mapToLong(s -> p.read(s.name()).length).sum());
      assertTrue(rt.backend() instanceof CpuReferenceBackend);
    }
    backend.close();
  }

  @Test
  void twoBackendModulesAreRefused() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    assertThrows(CreationException.class, () -> MspxModules.injector(plan,
        com.google.inject.util.Modules.combine(new CpuBackendModule(), MspxModules.backend("cpu"))));
  }

  @Test
  void selectionByNameAndAuto() {
    BackendProvider good = provider("cpu", 10, Availability.yes(List.of()));
    BackendProvider gone = provider("cudnn", 100, Availability.no("no GPU here", List.of()));
    List<BackendProvider> both = List.of(gone, good);
    BackendSelection.Choice auto = BackendSelection.choose("auto", both);
    assertSame(good, auto.provider());
    assertEquals(List.of("backend auto: skipped cudnn, unavailable: no GPU here", "backend auto: chose cpu"), auto.log());
    assertSame(good, BackendSelection.choose("CPU", both).provider());
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> BackendSelection.choose("cudnn", both));
    assertTrue(e.getMessage().contains("no GPU here"), e.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> BackendSelection.choose("tpu", both));
    assertEquals("unknown backend 'tpu', known options [auto, cudnn, cpu]", unknown.getMessage());
  }

  @Test
  void theRealProvidersAreFoundAndAutoFallsBackToCpu() {
    BackendSelection.Choice choice = BackendSelection.choose("auto");
    assertEquals("cpu", choice.provider().name());
    try (Backend b = choice.provider().create()) {
      assertEquals(0, b.outstandingBytes());
    }
  }

  private static BackendProvider provider(String name, int priority, Availability availability) {
    return new BackendProvider() {
      public String name() {
        return name;
      }

      public int priority() {
        return priority;
      }

      public Availability availability() {
        return availability;
      }

      public Backend create() {
        return new CpuReferenceBackend(name);
      }
    };
  }
}
