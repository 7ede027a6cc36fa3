package dev.mspx.samples.configs;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/** {@code photo32}: 32×32 RGB photo patches from an 8×8 base (8 → 16 → 32). */
@MultiscaleModel(
    channels = 3,
    size = 32,
    base = 8,
    baseNet = @GatedStack(layers = 6, filters = 96, kernel = 5),
    upscaling = @Upscaling(filters = 96, blocks = 4))
public interface Photo32 {}
