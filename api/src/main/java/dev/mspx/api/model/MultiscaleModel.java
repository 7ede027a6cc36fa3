package dev.mspx.api.model;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares a parallel multiscale PixelCNN. The {@code codegen} processor compiles the annotated type
 * {@code Foo} into {@code FooPlan} in the same package, or reports on this annotation why it cannot.
 *
 * <pre>{@code
 * @MultiscaleModel(channels = 1, size = 28, base = 7,
 *     baseNet = @GatedStack(layers = 6, filters = 64, kernel = 5),
 *     upscaling = @Upscaling(filters = 64, blocks = 4))
 * public interface Fashion28 {}
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface MultiscaleModel {
  /** C: 1 (grey) or 3 (RGB). */
  int channels();

  /** L: levels per sub-pixel, 2..256. */
  int levels() default 256;

  /** H = W of the full image: {@code base · 2^S} with S ≥ 1. */
  int size();

  /** b: the side of the base image that the gated PixelCNN generates in raster order. */
  int base();

  GatedStack baseNet();

  Upscaling upscaling();

  /** Conditioning types: each implements {@link Conditioning} and carries {@link ConditioningInput}. */
  Class<?>[] conditioning() default {};
}
