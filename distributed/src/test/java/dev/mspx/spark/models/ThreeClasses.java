package dev.mspx.spark.models;

import dev.mspx.api.model.Conditioning;
import dev.mspx.api.model.ConditioningInput;
import dev.mspx.api.model.ConditioningKind;

/** Three classes, for {@link SparkTinyLabelled}. */
@ConditioningInput(kind = ConditioningKind.CLASS_LABEL, width = 3)
public final class ThreeClasses implements Conditioning {}
