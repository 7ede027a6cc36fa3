/**
 * Runtime over execution plans (DESIGN.md section 2): {@link dev.mspx.core.Parameters} (learned tensors
 * and masks on a backend), {@link dev.mspx.core.PlanRuntime} (one plan bound to a backend for one
 * batch size, running its steps in a preallocated arena), {@link dev.mspx.core.GenerationOrder} (the
 * order in which a model generates sub-pixels, for causality checks and samplers), and the Guice wiring
 * ({@link dev.mspx.core.MspxModules}). Trainer, evaluator, samplers, checkpoints and datasets come with
 * the end-to-end model issue.
 */
package dev.mspx.core;
