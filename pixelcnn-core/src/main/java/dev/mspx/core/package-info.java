/**
 * Runtime over execution plans: parameters, initialisers, Adam, trainer, evaluator, the multiscale and
 * raster samplers, checkpoints and datasets (DESIGN.md section 2). Not built yet: it is the work of the
 * end-to-end model issue.
 */
package dev.mspx.core;
