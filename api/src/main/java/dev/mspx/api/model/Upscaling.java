package dev.mspx.api.model;

import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The network of every pixel group of every upscaling r → 2r: a trunk (3×3 convolution to {@code
 * filters}, then {@code blocks} residual blocks) over the groups already known, and a channel-masked
 * head of {@code headLayers} 1×1 layers over the trunk features and the group's own sub-pixels.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({})
public @interface Upscaling {
  int filters();

  int blocks() default 4;

  int headLayers() default 2;

  UpscaleType type() default UpscaleType.A;

  /** Type B only: the patch side M; it must divide the base size. 0 for type A. */
  int patch() default 0;
}
