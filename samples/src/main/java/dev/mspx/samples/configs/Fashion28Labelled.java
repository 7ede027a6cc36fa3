package dev.mspx.samples.configs;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/** {@code fashion28} conditioned on the Fashion-MNIST class ({@link FashionClass}). */
@MultiscaleModel(
    channels = 1,
    size = 28,
    base = 7,
    baseNet = @GatedStack(layers = 6, filters = 64, kernel = 5),
    upscaling = @Upscaling(filters = 64, blocks = 4),
    conditioning = FashionClass.class)
public interface Fashion28Labelled {}
