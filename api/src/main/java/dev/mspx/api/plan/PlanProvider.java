package dev.mspx.api.plan;

import dev.mspx.api.model.ModelSpec;

/**
 * A compiled model, found by name. For every {@code @MultiscaleModel} or {@code @RasterModel}
 * declaration {@code Foo} the annotation processor writes {@code FooPlan} with a nested {@code
 * FooPlan.Provider} implementing this interface, and lists it in {@code
 * META-INF/services/dev.mspx.api.plan.PlanProvider}: any jar of compiled models on the class path is
 * seen by {@link java.util.ServiceLoader}, and so by {@code mspx describe --list} and every command's
 * {@code --config NAME}.
 */
public interface PlanProvider {

  /** The name the model is called by: {@link ModelSpec#catalogName()}, e.g. {@code fashion28}. */
  String name();

  /** The declaring type's canonical name, e.g. {@code dev.mspx.samples.configs.Fashion28}. */
  String declaration();

  /** The declaration as a value (cheap: no plan is built). */
  ModelSpec spec();

  /** Trainable numbers of the plan (a compile-time constant). */
  long parameterCount();

  /** The plan (built once, when the generated class loads). */
  ExecutionPlan plan();
}
