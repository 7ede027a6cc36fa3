package dev.mspx.api;

import java.util.Arrays;
import java.util.List;
import org.immutables.value.Value;

/**
 * The dimensions of a dense tensor, outermost first. Activations are {@code [N, C, H, W]}, convolution
 * weights {@code [Cout, Cin, kH, kW]}. Every dimension is at least 1.
 */
@Value.Immutable(builder = false)
public abstract class Shape {

  Shape() {}

  @Value.Parameter
  public abstract List<Integer> dims();

  public static Shape of(int... dims) {
    return ImmutableShape.of(Arrays.stream(dims).boxed().toList());
  }

  /** The usual activation shape {@code [n, c, h, w]}. */
  public static Shape nchw(int n, int c, int h, int w) {
    return of(n, c, h, w);
  }

  @Value.Check
  protected void check() {
    if (dims().isEmpty()) {
      throw new IllegalArgumentException("a shape needs at least one dimension");
    }
    for (int d : dims()) {
      if (d < 1) {
        throw new IllegalArgumentException("shape " + dims() + " has a dimension < 1");
      }
    }
    long n = 1;
    for (int d : dims()) {
      n = Math.multiplyExact(n, d);
    }
  }

  public int rank() {
    return dims().size();
  }

  /** Dimension {@code i}; negative {@code i} counts from the end ({@code dim(-1)} is the last). */
  public int dim(int i) {
    return dims().get(i < 0 ? rank() + i : i);
  }

  /** Number of elements. */
  @Value.Derived
  public long elements() {
    long n = 1;
    for (int d : dims()) {
      n *= d;
    }
    return n;
  }

  public int[] toArray() {
    return dims().stream().mapToInt(Integer::intValue).toArray();
  }

  /** The same shape with dimension {@code i} replaced. */
  public Shape with(int i, int value) {
    int[] d = toArray();
    d[i < 0 ? rank() + i : i] = value;
    return of(d);
  }

  @Override
  public String toString() {
    return dims().toString();
  }
}
