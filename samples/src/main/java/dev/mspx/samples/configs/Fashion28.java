package dev.mspx.samples.configs;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/** {@code fashion28}: Fashion-MNIST, 28×28 grey from a 7×7 base (7 → 14 → 28). */
@MultiscaleModel(
    channels = 1,
    size = 28,
    base = 7,
    baseNet = @GatedStack(layers = 6, filters = 64, kernel = 5),
    upscaling = @Upscaling(filters = 64, blocks = 4))
public interface Fashion28 {}
