package dev.mspx.api.model;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Describes a {@link Conditioning} type to the plan: its kind and its width (classes for a label,
 * dimensions for a vector, channels for a map).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface ConditioningInput {
  ConditioningKind kind();

  int width();
}
