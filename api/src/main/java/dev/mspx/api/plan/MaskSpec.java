package dev.mspx.api.plan;

import dev.mspx.api.Shape;
import java.util.Arrays;

/**
 * A constant weight mask of a plan, as the call of a {@link Masks} helper that makes it: a value, so a
 * plan (and its generated source) names every mask by what it is rather than by its bits.
 */
public sealed interface MaskSpec {

  Shape shape();

  float[] values();

  /** {@link Masks#verticalStack}. */
  record Vertical(int out, int in, int kernel, boolean first) implements MaskSpec {
    @Override
    public Shape shape() {
      return Shape.of(out, in, kernel, kernel);
    }

    @Override
    public float[] values() {
      return Masks.verticalStack(out, in, kernel, first);
    }
  }

  /** {@link Masks#horizontalStack}. */
  record Horizontal(int out, int in, int kernel, boolean first, int colours) implements MaskSpec {
    @Override
    public Shape shape() {
      return Shape.of(out, in, kernel, kernel);
    }

    @Override
    public float[] values() {
      return Masks.horizontalStack(out, in, kernel, first, colours);
    }
  }

  /** {@link Masks#colour}, a 1×1 mask. */
  record Colour(int out, int in, int colours, boolean strict) implements MaskSpec {
    @Override
    public Shape shape() {
      return Shape.of(out, in, 1, 1);
    }

    @Override
    public float[] values() {
      return Masks.colour(out, in, colours, strict);
    }
  }

  /** {@link Masks#headInput}, a 1×1 mask. */
  record HeadInput(int out, int features, int colours) implements MaskSpec {
    @Override
    public Shape shape() {
      return Shape.of(out, features + colours, 1, 1);
    }

    @Override
    public float[] values() {
      return Masks.headInput(out, features, colours);
    }
  }

  /** {@link Masks#patch}, a 1×1 mask: {@code width} head units per position of an M×M patch. */
  record Patch(int width, int colours, int patch) implements MaskSpec {
    @Override
    public Shape shape() {
      return Shape.of(width * patch * patch, colours * patch * patch, 1, 1);
    }

    @Override
    public float[] values() {
      return Masks.patch(width, colours, patch);
    }
  }

  /**
   * A mask given by its values, for experiments and for the test kit's mutants (deliberately broken
   * plans that the masking properties must reject). The plan builder and the annotation processor never
   * make one: every mask of a built plan is one of the named helpers above.
   *
   * @param description what the mask lets through, in a few words (shown by {@code describe()})
   * @param shape {@code [out, in, kH, kW]}
   * @param values 0/1 per weight, {@code shape.elements()} of them
   */
  record Explicit(String description, Shape shape, float[] values) implements MaskSpec {
    public Explicit {
      values = values.clone();
      if (values.length != shape.elements()) {
        throw new IllegalArgumentException(
            "explicit mask '" + description + "': " + values.length + " values for shape " + shape);
      }
    }

    @Override
    public float[] values() {
      return values.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Explicit e
          && e.description.equals(description)
          && e.shape.equals(shape)
          && Arrays.equals(e.values, values);
    }

    @Override
    public int hashCode() {
      return (description.hashCode() * 31 + shape.hashCode()) * 31 + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return "Explicit[" + description + ", " + shape + ", " + Arrays.toString(values) + "]";
    }
  }
}
