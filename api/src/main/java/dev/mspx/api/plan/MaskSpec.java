package dev.mspx.api.plan;

import dev.mspx.api.Shape;

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
}
