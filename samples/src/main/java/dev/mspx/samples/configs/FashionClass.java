package dev.mspx.samples.configs;

import dev.mspx.api.model.Conditioning;
import dev.mspx.api.model.ConditioningInput;
import dev.mspx.api.model.ConditioningKind;

/** The ten Fashion-MNIST classes as conditioning: a learned bias per class in every layer. */
@ConditioningInput(kind = ConditioningKind.CLASS_LABEL, width = 10)
public final class FashionClass implements Conditioning {}
