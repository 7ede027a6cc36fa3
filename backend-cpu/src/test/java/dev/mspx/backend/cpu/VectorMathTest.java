package dev.mspx.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The reproducible exp/tanh/σ: accurate, and the same bits in vector lanes, scalar tails and every call. */
class VectorMathTest {

  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  private static float[] inputs(int n, double lo, double hi, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (lo + (hi - lo) * r.nextDouble());
    }
    x[0] = 0f;
    x[1] = -0f;
    x[2] = 1e-7f;
    x[3] = 0.625f;
    x[4] = -0.625f;
    return x;
  }

  private static int ulps(float got, double want) {
    float w = (float) want;
    return Math.abs(Float.floatToIntBits(got) - Float.floatToIntBits(w));
  }

  @Test
  void expIsWithinTwoUlpsAndTanhAndSigmoidWithinAFewMillionths() {
    float[] x = inputs(100_000, -80, 80, 1);
    for (float v : x) {
      assertTrue(ulps(VectorMath.exp(v), Math.exp(v)) <= 2, "exp(" + v + ")");
    }
    float[] small = inputs(100_000, -20, 20, 2);
    for (float v : small) {
      assertEquals(Math.tanh(v), VectorMath.tanh(v), 2e-7 + 1e-6 * Math.abs(Math.tanh(v)), "tanh(" + v + ")");
      double sig = 1 / (1 + Math.exp(-v));
      assertEquals(sig, VectorMath.sigmoid(v), 2e-7 + 1e-6 * sig, "sigmoid(" + v + ")");
    }
    assertEquals(1f, VectorMath.tanh(Float.POSITIVE_INFINITY));
    assertEquals(-1f, VectorMath.tanh(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(VectorMath.exp(Float.NaN)));
  }

  /** A lane computes what the scalar twin computes, to the bit, before and after the JIT has compiled both. */
  @Test
  void vectorLanesEqualTheScalarTwinOnEveryCall() {
    float[] x = inputs(S.length() * 64, -30, 30, 3);
    float[][] first = run(x);
    for (int round = 0; round < 2_000; round++) { // long enough for C2 to compile these loops
      float[][] again = run(x);
      for (int f = 0; f < 3; f++) {
        for (int i = 0; i < x.length; i++) {
          assertEquals(Float.floatToRawIntBits(first[f][i]), Float.floatToRawIntBits(again[f][i]), "round " + round + " fn " + f + " x=" + x[i]);
        }
      }
    }
    for (int i = 0; i < x.length; i++) {
      assertEquals(Float.floatToRawIntBits(VectorMath.exp(x[i])), Float.floatToRawIntBits(first[0][i]), "exp lane vs scalar at " + x[i]);
      assertEquals(Float.floatToRawIntBits(VectorMath.tanh(x[i])), Float.floatToRawIntBits(first[1][i]), "tanh lane vs scalar at " + x[i]);
      assertEquals(Float.floatToRawIntBits(VectorMath.sigmoid(x[i])), Float.floatToRawIntBits(first[2][i]), "sigmoid lane vs scalar at " + x[i]);
    }
  }

  private static float[][] run(float[] x) {
    float[][] out = new float[3][x.length];
    for (int i = 0; i < x.length; i += S.length()) {
      FloatVector v = FloatVector.fromArray(S, x, i);
      VectorMath.exp(v).intoArray(out[0], i);
      VectorMath.tanh(v).intoArray(out[1], i);
      VectorMath.sigmoid(v).intoArray(out[2], i);
    }
    return out;
  }
}
