package dev.mspx.samples.configs;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.RasterModel;

/** {@code photo32-raster}: the full-resolution gated PixelCNN baseline for photo patches. */
@RasterModel(channels = 3, size = 32, net = @GatedStack(layers = 12, filters = 96, kernel = 5))
public interface Photo32Raster {}
