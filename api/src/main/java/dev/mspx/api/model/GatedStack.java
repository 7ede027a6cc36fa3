package dev.mspx.api.model;

import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A gated PixelCNN (van den Oord et al. 2016): {@code layers} gated layers of {@code filters} feature
 * maps with vertical and horizontal stacks, {@code kernel × kernel} masked convolutions. "6 layers"
 * counts the first (mask A) layer.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({})
public @interface GatedStack {
  int layers();

  int filters();

  int kernel() default 5;
}
