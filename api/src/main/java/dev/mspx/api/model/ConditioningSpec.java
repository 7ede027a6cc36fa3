package dev.mspx.api.model;

/** One conditioning of a model: the implementing type's name and its {@link ConditioningInput}. */
public record ConditioningSpec(String type, ConditioningKind kind, int width) {

  /** The short name used in parameter names: the simple type name. */
  public String simpleName() {
    int dot = Math.max(type.lastIndexOf('.'), type.lastIndexOf('$'));
    return type.substring(dot + 1);
  }
}
