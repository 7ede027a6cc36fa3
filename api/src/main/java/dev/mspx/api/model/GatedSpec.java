package dev.mspx.api.model;

/** The values of a {@link GatedStack}. */
public record GatedSpec(int layers, int filters, int kernel) {}
