package dev.mspx.testing;

import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import java.util.SplittableRandom;

/**
 * Random test inputs as {@code double[]} (the oracle's currency), their host tensors, and the
 * poison that output tensors are filled with before an op runs.
 *
 * <p>Float inputs are rounded to float32 when drawn, so the oracle computes on exactly the values
 * the backend sees. Integer inputs never take the poison value of their dtype, so that an output
 * element an op forgot to write can never pass for a copied input.
 */
public final class HostData {

  /** What float32 outputs hold before an op: any element left unwritten fails every comparison. */
  public static final float POISON_FLOAT32 = Float.NaN;

  /** What uint8 outputs hold before an op; inputs drawn here avoid it. */
  public static final int POISON_UINT8 = 0xAB;

  /** What int32 outputs hold before an op; inputs drawn here avoid it. */
  public static final int POISON_INT32 = 0xDEADBEEF;

  private HostData() {}

  /** {@code n} float32 values uniform in {@code [lo, hi)}. */
  public static double[] uniform(SplittableRandom random, int n, double lo, double hi) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (lo + (hi - lo) * random.nextDouble());
    }
    return x;
  }

  /**
   * {@code n} float32 values uniform in {@code ±[gap, hi)}: inputs for ops with a kink at 0 (relu),
   * where a finite difference or a float32 rounding must not cross it.
   */
  public static double[] awayFromZero(SplittableRandom random, int n, double gap, double hi) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      double magnitude = gap + (hi - gap) * random.nextDouble();
      x[i] = (float) (random.nextBoolean() ? magnitude : -magnitude);
    }
    return x;
  }

  /** A 0/1 weight mask with about half of its taps zero, never all zero and never all one. */
  public static double[] mask(SplittableRandom random, int n) {
    double[] m = new double[n];
    for (int i = 0; i < n; i++) {
      m[i] = random.nextBoolean() ? 1 : 0;
    }
    if (n > 1) {
      // Both values present, so a test always sees a masked and an unmasked tap.
      int zero = random.nextInt(n);
      int one = (zero + 1 + random.nextInt(n - 1)) % n;
      m[zero] = 0;
      m[one] = 1;
    }
    return m;
  }

  /** {@code n} integers in {@code [0, bound)} other than {@link #POISON_UINT8}: levels, targets. */
  public static double[] levels(SplittableRandom random, int n, int bound) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      int v;
      do {
        v = random.nextInt(bound);
      } while (v == POISON_UINT8);
      x[i] = v;
    }
    return x;
  }

  /**
   * {@code n} targets (sub-pixel values) uniform in {@code [0, levels)}, the poison value included:
   * inputs only.
   */
  public static double[] targets(SplittableRandom random, int n, int levels) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = random.nextInt(levels);
    }
    return x;
  }

  /** {@code n} arbitrary int32 values other than {@link #POISON_INT32}. */
  public static double[] int32s(SplittableRandom random, int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      int v;
      do {
        v = random.nextInt();
      } while (v == POISON_INT32);
      x[i] = v;
    }
    return x;
  }

  /**
   * Random contents for a tensor of {@code dtype}: floats in [-1, 1), any uint8 or int32 but
   * poison.
   */
  public static double[] of(SplittableRandom random, int n, DType dtype) {
    return switch (dtype) {
      case FLOAT32 -> uniform(random, n, -1, 1);
      case UINT8 -> levels(random, n, 256);
      case INT32 -> int32s(random, n);
    };
  }

  /**
   * {@code n} uniforms in [0, 1) exactly representable in float32 ({@code k / 2^24}): a float32
   * cast of a double uniform could round up to 1.
   */
  public static double[] unitUniforms(SplittableRandom random, int n) {
    double[] u = new double[n];
    for (int i = 0; i < n; i++) {
      u[i] = random.nextInt(1 << 24) / (double) (1 << 24);
    }
    return u;
  }

  /** A host tensor holding {@code values}, converted to {@code dtype}. */
  public static HostTensor toHost(
      HostMemory memory, Shape shape, DType dtype, double[] values, String label) {
    if (values.length != shape.elements()) {
      throw new IllegalArgumentException(
          label
              + ": "
              + values.length
              + " values for shape "
              + shape
              + " ("
              + shape.elements()
              + ")");
    }
    HostTensor h = memory.allocate(shape, dtype, label);
    for (int i = 0; i < values.length; i++) {
      switch (dtype) {
        case FLOAT32 -> h.setFloat(i, (float) values[i]);
        case INT32 -> h.setInt(i, (int) values[i]);
        case UINT8 -> h.setUnsignedByte(i, (int) values[i]);
      }
    }
    return h;
  }

  /** A host tensor's elements as doubles (uint8 unsigned). */
  public static double[] values(HostTensor h) {
    double[] x = new double[Math.toIntExact(h.shape().elements())];
    for (int i = 0; i < x.length; i++) {
      x[i] = h.getAsDouble(i);
    }
    return x;
  }

  /** The poison value of {@code dtype}, as a double. */
  public static double poison(DType dtype) {
    return switch (dtype) {
      case FLOAT32 -> POISON_FLOAT32;
      case UINT8 -> POISON_UINT8;
      case INT32 -> POISON_INT32;
    };
  }
}
