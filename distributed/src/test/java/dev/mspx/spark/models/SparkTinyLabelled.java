package dev.mspx.spark.models;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/** A tiny class-conditional RGB model (3 classes, 16 levels) for the sampling fleet's labels. */
@MultiscaleModel(channels = 3, size = 8, base = 4, levels = 16,
    baseNet = @GatedStack(layers = 2, filters = 6, kernel = 3),
    upscaling = @Upscaling(filters = 6, blocks = 1),
    conditioning = ThreeClasses.class)
public interface SparkTinyLabelled {}
