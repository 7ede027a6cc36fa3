/**
 * The model at run time. {@link dev.mspx.core.Model} is the central noun: a compiled plan on a backend
 * with its parameters, opened by name ({@link dev.mspx.core.ModelCatalog}) or from a checkpoint,
 * through a Guice injector with exactly one {@link dev.mspx.core.BackendModule}; it trains ({@link
 * dev.mspx.core.Trainer}, {@link dev.mspx.core.Adam}), evaluates ({@link dev.mspx.core.Scorer}),
 * samples ({@link dev.mspx.core.Sampler}) and saves ({@link dev.mspx.core.Checkpoint}). Underneath:
 * {@link dev.mspx.core.Parameters} (learned tensors and masks on a backend), {@link
 * dev.mspx.core.PlanRuntime} (one plan bound to a backend for one batch size, running its steps in a
 * preallocated arena) and {@link dev.mspx.core.GenerationOrder} (the order in which a model generates
 * sub-pixels). {@code dev.mspx.core.data} reads datasets into Arrow.
 */
package dev.mspx.core;
