/**
 * The annotation processor that compiles {@link dev.mspx.api.model.MultiscaleModel} and {@link
 * dev.mspx.api.model.RasterModel} declarations into {@code <Name>Plan} classes. Three stages, as in
 * Dagger and MapStruct: {@link dev.mspx.codegen.ModelReader} reads a declaration into a {@link
 * dev.mspx.api.model.ModelSpec} and reports every broken rule (the one list of diagnostics is {@link
 * dev.mspx.api.model.SpecError}) on the annotation value that caused it, going on to find the next;
 * {@link dev.mspx.api.plan.PlanBuilder} builds the plan; {@link dev.mspx.codegen.PlanWriter} writes it
 * as Java source.
 */
package dev.mspx.codegen;
