/**
 * Execution plans: what a model declaration compiles into. A plan is backend-agnostic data — slots
 * (every tensor with its shape per image), steps (one SPI op each, on slot ids), networks (forward,
 * backward, and for group nets the trunk/head split that sampling needs), the parameter table and a
 * static arena layout — built by {@link dev.mspx.api.plan.PlanBuilder} from a {@link
 * dev.mspx.api.model.ModelSpec}. The annotation processor runs the same builder at compile time and
 * writes the result as Java source; tools and property tests run it at run time.
 *
 * <p>Masks come from the named helpers of {@link dev.mspx.api.plan.Masks}; nothing else in the plan
 * decides what a layer may see.
 */
package dev.mspx.api.plan;
