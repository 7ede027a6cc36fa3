package dev.mspx.samples.configs;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/** {@code speed512}: 512×512 RGB from an 8×8 base through 6 upscalings, for sampling speed. */
@MultiscaleModel(
    channels = 3,
    size = 512,
    base = 8,
    baseNet = @GatedStack(layers = 6, filters = 64, kernel = 5),
    upscaling = @Upscaling(filters = 64, blocks = 4))
public interface Speed512 {}
