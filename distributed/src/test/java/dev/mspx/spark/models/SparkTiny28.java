package dev.mspx.spark.models;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/**
 * fashion28's shape (28×28 grey from a 7×7 base, 7 → 14 → 28) with tiny networks, so that Spark tests
 * take seconds: found on the executors by name ({@code spark-tiny28}) like any compiled model.
 */
@MultiscaleModel(channels = 1, size = 28, base = 7,
    baseNet = @GatedStack(layers = 2, filters = 4, kernel = 3),
    upscaling = @Upscaling(filters = 4, blocks = 1))
public interface SparkTiny28 {}
