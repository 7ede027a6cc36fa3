package dev.mspx.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendSelection;
import dev.mspx.api.BackendUnavailableException;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.PlanBuilder;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import java.util.List;
import org.junit.jupiter.api.Test;

class WiringTest {

  @Test
  void aModelIsOnePlanOnTheOneBackendItsModuleBinds() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    try (Model model = Model.create(plan, BackendModule.of("reference", CpuReferenceBackend::new), 0)) {
      assertTrue(model.backend() instanceof CpuReferenceBackend);
      assertSame(plan, model.plan());
      assertEquals("tiny-multiscale-grey", model.name());
      assertEquals(plan.parameterCount(), plan.parameters().stream().mapToLong(s -> model.parameters().read(s.name()).length).sum());
    }
  }

  @Test
  void twoBackendModulesAreRefused() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Model.create(plan,
        com.google.inject.util.Modules.combine(BackendModule.of("a", CpuReferenceBackend::new), BackendModule.select("cpu")), 0));
    assertTrue(e.getMessage().contains("give exactly one backend module"), e.getMessage());
  }

  @Test
  void aBackendThatCannotStartFailsWithItsOwnReason() {
    ExecutionPlan plan = PlanBuilder.build(TinyModels.multiscaleGrey());
    BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Model.create(plan,
        BackendModule.of("broken", () -> {
          throw new BackendUnavailableException("the broken backend cannot start: no device; use --backend cpu");
        }), 0));
    assertEquals("the broken backend cannot start: no device; use --backend cpu", e.getMessage());
  }

  @Test
  void theSurveyProbesEveryProviderOnce() {
    BackendProvider good = provider("cpu", 10, Availability.yes(List.of()));
    BackendProvider gone = provider("cudnn", 100, Availability.no("no GPU here", List.of()));
    List<BackendSelection.Probe> survey = BackendSelection.survey(List.of(gone, good));
    assertEquals(List.of("cudnn", "cpu"), survey.stream().map(p -> p.provider().name()).toList());
    assertEquals(List.of(false, true), survey.stream().map(p -> p.availability().available()).toList());
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
