package dev.mspx.core;

import dev.mspx.api.Backend;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Tensor;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.api.plan.Init;
import dev.mspx.api.plan.MaskSpec;
import dev.mspx.api.plan.ParameterSpec;
import dev.mspx.api.plan.Slot;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * The learned tensors of a plan and its constant masks, on one backend. Shared by every {@link
 * PlanRuntime} of the plan (a training batch and a sampling batch see the same weights).
 */
public final class Parameters implements AutoCloseable {

  private final ExecutionPlan plan;
  private final Backend backend;
  private final Map<Integer, Tensor> tensors = new LinkedHashMap<>();
  private final Map<String, ParameterSpec> byName = new HashMap<>();

  private Parameters(ExecutionPlan plan, Backend backend) {
    this.plan = plan;
    this.backend = backend;
  }

  /**
   * Parameters initialised as the plan says (DESIGN.md: U(±1/√fan_in) for weights and biases, zeros for
   * conditioning tables), drawn from {@code seed} in the order of the parameter table.
   */
  public static Parameters initialise(ExecutionPlan plan, Backend backend, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    return create(plan, backend, (spec, h) -> {
      if (spec.init() instanceof Init.Uniform u) {
        double bound = u.bound();
        for (long i = 0; i < h.shape().elements(); i++) {
          h.setFloat(i, (float) ((random.nextDouble() * 2 - 1) * bound));
        }
      }
    });
  }

  /**
   * Parameters with the given values, one array per parameter name (a checkpoint's), copied to the
   * backend once; a missing or mis-sized array is refused naming the parameter.
   */
  public static Parameters of(ExecutionPlan plan, Backend backend, Map<String, float[]> values) {
    return create(plan, backend, (spec, h) -> {
      float[] v = values.get(spec.name());
      if (v == null || v.length != h.shape().elements()) {
        throw new IllegalArgumentException("parameter " + spec.name() + " of " + plan.spec().name() + " needs "
            + h.shape().elements() + " values, got " + (v == null ? "none" : v.length));
      }
      h.copyFrom(v);
    });
  }

  /** Writes the host copy of one parameter before it is moved to the backend. */
  private interface Filler {
    void fill(ParameterSpec spec, HostTensor host);
  }

  private static Parameters create(ExecutionPlan plan, Backend backend, Filler filler) {
    Parameters p = new Parameters(plan, backend);
    try (HostMemory host = HostMemory.create("parameter-init")) {
      for (Map.Entry<Integer, MaskSpec> m : new java.util.TreeMap<>(plan.masks()).entrySet()) {
        Slot s = plan.slot(m.getKey());
        try (HostTensor h = host.allocate(s.shape(), s.dtype(), s.name())) {
          h.copyFrom(m.getValue().values());
          p.tensors.put(s.id(), backend.fromHost(h, s.name()));
        }
      }
      for (ParameterSpec spec : plan.parameters()) {
        Slot s = plan.slot(spec.slot());
        p.byName.put(spec.name(), spec);
        try (HostTensor h = host.allocate(s.shape(), s.dtype(), s.name())) {
          filler.fill(spec, h);
          p.tensors.put(s.id(), backend.fromHost(h, s.name()));
        }
      }
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return p;
  }

  public ExecutionPlan plan() {
    return plan;
  }

  public Backend backend() {
    return backend;
  }

  /** The tensor of a parameter or mask slot. */
  public Tensor tensor(int slot) {
    Tensor t = tensors.get(slot);
    if (t == null) {
      throw new NoSuchElementException("slot " + plan.slot(slot) + " is not a parameter or mask");
    }
    return t;
  }

  /** The row of the parameter table called {@code name}, e.g. {@code base.layer0.vertical.weight}. */
  public ParameterSpec spec(String name) {
    ParameterSpec s = byName.get(name);
    if (s == null) {
      throw new NoSuchElementException("no parameter " + name + " in plan " + plan.spec().name());
    }
    return s;
  }

  /** A copy of a parameter's values. */
  public float[] read(String name) {
    Tensor t = tensor(spec(name).slot());
    try (HostMemory host = HostMemory.create("parameter-read");
        HostTensor h = backend.toHost(t, host)) {
      return h.toFloatArray();
    }
  }

  /** Overwrites a parameter's values. */
  public void write(String name, float[] values) {
    Tensor t = tensor(spec(name).slot());
    try (HostMemory host = HostMemory.create("parameter-write");
        HostTensor h = host.allocate(t.shape(), t.dtype(), name)) {
      h.copyFrom(values);
      backend.copyFromHost(h, t);
    }
  }

  @Override
  public void close() {
    for (Tensor t : tensors.values()) {
      t.close();
    }
    tensors.clear();
  }
}
