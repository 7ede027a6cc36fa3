package dev.mspx.samples.configs;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.RasterModel;

/** {@code fashion28-raster}: the full-resolution gated PixelCNN baseline for Fashion-MNIST. */
@RasterModel(channels = 1, size = 28, net = @GatedStack(layers = 12, filters = 64, kernel = 5))
public interface Fashion28Raster {}
