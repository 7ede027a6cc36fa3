package dev.mspx.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, tanh and the logistic sigmoid in float32 from additions, multiplications and fused
 * multiply-adds only, each with a scalar twin that performs the very same operations.
 *
 * <p>Why not {@code VectorOperators.EXP/TANH}: their results depend on whether the JIT has compiled
 * the call (an SVML intrinsic) or not (a per-lane fallback), so the same input could give results a
 * bit apart from one call to the next. That breaks bit-identical causality checks and bit-identical
 * resumed training. IEEE add, multiply and FMA are exactly rounded however they run, so these are
 * reproducible: same input, same bits, vector lane or scalar tail, interpreted or compiled.
 *
 * <p>Accuracy: exp within 2 ulp over [-87.3, 88.3] (Cephes expf: Cody–Waite reduction, degree-5
 * polynomial), inputs outside clamped; tanh within a few ulp for |x| ≥ 0.625 via 1 - 2/(e^{2x}+1) and
 * by Cephes' odd polynomial below, where that formula would cancel.
 */
final class VectorMath {

  private VectorMath() {}

  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  /** 1.5·2^23: adding it rounds to the nearest integer, which then sits in the low mantissa bits. */
  private static final float ROUND = 12582912f;
  private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
  private static final float LO = -87.33654f;
  private static final float HI = 88.3762626647949f;
  private static final float[] EXP_POLY = {
    1.9875691500E-4f, 1.3981999507E-3f, 8.3334519073E-3f, 4.1665795894E-2f, 1.6666665459E-1f, 5.0000001201E-1f
  };
  private static final float[] TANH_POLY = {
    -5.70498872745E-3f, 2.06390887954E-2f, -5.37397155531E-2f, 1.33314422036E-1f, -3.33332819422E-1f
  };
  private static final float TANH_SMALL = 0.625f;

  static float exp(float x) {
    x = Math.min(Math.max(x, LO), HI);
    float t = Math.fma(x, LOG2E, ROUND);
    float n = t - ROUND;
    float r = Math.fma(n, -LN2_HI, x);
    r = Math.fma(n, -LN2_LO, r);
    float p = EXP_POLY[0];
    for (int i = 1; i < EXP_POLY.length; i++) {
      p = Math.fma(p, r, EXP_POLY[i]);
    }
    float y = Math.fma(p, r * r, r) + 1f;
    int k = Float.floatToRawIntBits(t) - ROUND_BITS;
    return y * Float.intBitsToFloat((k + 127) << 23);
  }

  static FloatVector exp(FloatVector v) {
    VectorSpecies<Float> s = v.species();
    FloatVector x = v.max(LO).min(HI);
    FloatVector t = x.fma(FloatVector.broadcast(s, LOG2E), FloatVector.broadcast(s, ROUND));
    FloatVector n = t.sub(ROUND);
    FloatVector r = n.fma(FloatVector.broadcast(s, -LN2_HI), x);
    r = n.fma(FloatVector.broadcast(s, -LN2_LO), r);
    FloatVector p = FloatVector.broadcast(s, EXP_POLY[0]);
    for (int i = 1; i < EXP_POLY.length; i++) {
      p = p.fma(r, FloatVector.broadcast(s, EXP_POLY[i]));
    }
    FloatVector y = p.fma(r.mul(r), r).add(1f);
    IntVector k = ((IntVector) t.reinterpretAsInts()).sub(ROUND_BITS);
    FloatVector scale = (FloatVector) k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return y.mul(scale);
  }

  static float tanh(float x) {
    float a = Math.abs(x);
    if (a < TANH_SMALL) {
      float z = x * x;
      float p = TANH_POLY[0];
      for (int i = 1; i < TANH_POLY.length; i++) {
        p = Math.fma(p, z, TANH_POLY[i]);
      }
      return Math.fma(p * z, x, x);
    }
    float e = exp(2f * a);
    float t = 1f - 2f / (e + 1f);
    return Math.copySign(t, x);
  }

  static FloatVector tanh(FloatVector x) {
    VectorSpecies<Float> s = x.species();
    FloatVector a = x.abs();
    FloatVector z = x.mul(x);
    FloatVector p = FloatVector.broadcast(s, TANH_POLY[0]);
    for (int i = 1; i < TANH_POLY.length; i++) {
      p = p.fma(z, FloatVector.broadcast(s, TANH_POLY[i]));
    }
    FloatVector small = p.mul(z).fma(x, x);
    FloatVector e = exp(a.mul(2f));
    FloatVector one = FloatVector.broadcast(s, 1f);
    FloatVector big = one.sub(FloatVector.broadcast(s, 2f).div(e.add(one)));
    // copySign: the magnitude's bits with the sign bit of x
    IntVector sign = ((IntVector) x.reinterpretAsInts()).and(0x80000000);
    big = (FloatVector) ((IntVector) big.reinterpretAsInts()).or(sign).reinterpretAsFloats();
    VectorMask<Float> isSmall = a.compare(VectorOperators.LT, TANH_SMALL);
    return big.blend(small, isSmall);
  }

  static float sigmoid(float x) {
    return 1f / (1f + exp(-x));
  }

  static FloatVector sigmoid(FloatVector x) {
    FloatVector one = FloatVector.broadcast(x.species(), 1f);
    return one.div(one.add(exp(x.neg())));
  }
}
