package dev.mspx.samples.models;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/**
 * A tiny colour model declared only in the tests, for crops and super-resolution: 16×16 RGB from a
 * 4×4 base, trained on 8×8 crops ({@code --crop 8}) and used at 16 and 32.
 */
@MultiscaleModel(channels = 3, size = 16, base = 4,
    baseNet = @GatedStack(layers = 2, filters = 6, kernel = 3),
    upscaling = @Upscaling(filters = 6, blocks = 1))
public interface PocketPhotos {}
