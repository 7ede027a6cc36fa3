package dev.mspx.samples.configs;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.UpscaleType;
import dev.mspx.api.model.Upscaling;

/**
 * {@code photo32-type-b}: {@link Photo32} with type-B upscaling over 2×2 patches: inside each pixel
 * group, the four pixels of every 2×2 patch are generated one after another (raster order), all
 * patches in parallel. The trunks and widths are photo32's; sampling takes 270 network evaluations
 * against photo32's 216. For the type A against type B comparison (README).
 */
@MultiscaleModel(
    channels = 3,
    size = 32,
    base = 8,
    baseNet = @GatedStack(layers = 6, filters = 96, kernel = 5),
    upscaling = @Upscaling(filters = 96, blocks = 4, type = UpscaleType.B, patch = 2))
public interface Photo32TypeB {}
