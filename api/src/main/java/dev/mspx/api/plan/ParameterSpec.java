package dev.mspx.api.plan;

/**
 * A row of the parameter table: the parameter slot, its gradient slot, how it is initialised, and the
 * mask applied to it (or -1), so that counts of effective parameters can leave masked taps out.
 */
public record ParameterSpec(String name, int slot, int gradient, int mask, Init init) {}
