package dev.mspx.samples.models;

import dev.mspx.api.model.GatedStack;
import dev.mspx.api.model.MultiscaleModel;
import dev.mspx.api.model.Upscaling;

/**
 * A model declared only in the test sources, as a user would declare one in their own jar: javac's
 * mspx processor compiles it and lists it, and the command line finds it as {@code pocket-faces}.
 */
@MultiscaleModel(channels = 1, size = 8, base = 4,
    baseNet = @GatedStack(layers = 2, filters = 8, kernel = 3),
    upscaling = @Upscaling(filters = 8, blocks = 1))
public interface PocketFaces {}
