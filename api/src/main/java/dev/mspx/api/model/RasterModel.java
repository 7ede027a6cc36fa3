package dev.mspx.api.model;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a full-resolution gated PixelCNN sampled in raster order: the baseline against which the
 * multiscale model's likelihood and speed are measured.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface RasterModel {
  int channels();

  int levels() default 256;

  int size();

  GatedStack net();

  Class<?>[] conditioning() default {};
}
