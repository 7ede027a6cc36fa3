package dev.mspx.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mspx.api.AdamOp;
import dev.mspx.testing.F64.ConvGeometry;
import dev.mspx.testing.Tolerances.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The oracle checked on its own, with no backend: hand-worked values for the conventions (padding,
 * cross-correlation, layouts), and its backward ops against finite differences of its forward ops.
 */
class F64Test {

  private final SplittableRandom random = new SplittableRandom(20170312);

  @Test
  void conv2dPadsWithZerosAroundTheImage() {
    // All-ones 3x3 kernel on an all-ones 3x4 image: each output counts the taps inside the image.
    ConvGeometry g = new ConvGeometry(1, 1, 1, 3, 4, 3, 3);
    double[] ones = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    double[] y =
        F64.conv2d(g, ones, new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, null, new double[] {0.5});
    assertArrayEquals(
        new double[] {4.5, 6.5, 6.5, 4.5, 6.5, 9.5, 9.5, 6.5, 4.5, 6.5, 6.5, 4.5}, y, 0);
  }

  @Test
  void conv2dIsACrossCorrelation() {
    // A kernel whose only tap is its top-left one reads the pixel up and to the left: y[i,j] =
    // x[i-1,j-1].
    ConvGeometry g = new ConvGeometry(1, 1, 1, 2, 3, 3, 3);
    double[] x = {1, 2, 3, 4, 5, 6};
    double[] y = F64.conv2d(g, x, new double[] {1, 0, 0, 0, 0, 0, 0, 0, 0}, null, null);
    assertArrayEquals(new double[] {0, 0, 0, 0, 1, 2}, y, 0);
    // The mask hides the tap.
    double[] masked =
        F64.conv2d(g, x, new double[] {1, 0, 0, 0, 0, 0, 0, 0, 0}, new double[9], null);
    assertArrayEquals(new double[6], masked, 0);
  }

  @Test
  void conv2dBackwardOpsAreTheGradientsOfConv2d() {
    ConvGeometry g = new ConvGeometry(2, 2, 3, 3, 4, 3, 5);
    double[] x = HostData.uniform(random, 2 * 2 * 12, -1, 1);
    double[] w = HostData.uniform(random, 3 * 2 * 15, -1, 1);
    double[] mask = HostData.mask(random, w.length);
    double[] bias = HostData.uniform(random, 3, -1, 1);
    double[] r = HostData.uniform(random, 2 * 3 * 12, -1, 1);
    assertClose(
        FiniteDifferences.gradient(x, p -> F64.dot(r, F64.conv2d(g, p, w, mask, bias))),
        F64.conv2dBackwardData(g, r, w, mask));
    assertClose(
        FiniteDifferences.gradient(w, p -> F64.dot(r, F64.conv2d(g, x, p, mask, bias))),
        F64.conv2dBackwardFilter(g, x, r, mask));
    assertClose(
        FiniteDifferences.gradient(bias, p -> F64.dot(r, F64.conv2d(g, x, w, mask, p))),
        F64.conv2dBackwardBias(g, r));
  }

  @Test
  void gateBackwardIsTheGradientOfGate() {
    double[] pre = HostData.uniform(random, 2 * 4 * 6, -3, 3);
    double[] r = HostData.uniform(random, 2 * 2 * 6, -1, 1);
    assertClose(
        FiniteDifferences.gradient(pre, p -> F64.dot(r, F64.gate(p, 2, 2, 6))),
        F64.gateBackward(pre, r, 2, 2, 6));
    assertEquals(Math.tanh(0.5) * F64.sigmoid(-1), F64.gate(new double[] {0.5, -1}, 1, 1, 1)[0], 0);
  }

  @Test
  void softmaxCrossEntropyBackwardIsItsGradient() {
    int levels = 5;
    double[] logits = HostData.uniform(random, 2 * 3 * levels * 4, -4, 4);
    double[] targets = HostData.targets(random, 2 * 3 * 4, levels);
    double[] r = HostData.uniform(random, 2 * 3 * 4, -1, 1);
    assertClose(
        FiniteDifferences.gradient(
            logits, p -> F64.dot(r, F64.softmaxCrossEntropy(p, targets, 2, 3, levels, 4))),
        F64.softmaxCrossEntropyBackward(logits, targets, r, 2, 3, levels, 4));
    // Equal logits: nll = log L whatever the target.
    assertEquals(
        Math.log(4),
        F64.softmaxCrossEntropy(new double[4], new double[] {2}, 1, 1, 4, 1)[0],
        1e-15);
  }

  @Test
  void sampleCategoricalInvertsTheCdf() {
    double[] logits = {0, 0, 0, 0}; // one sub-pixel, L = 4: boundaries at 1/4, 1/2, 3/4
    double[] cdf = F64.categoricalCdf(logits, 1, 1, 4, 1);
    double[] us = {0, 0.2, 0.25, 0.6, 0.99};
    double[] expected = {0, 0, 1, 2, 3};
    for (int k = 0; k < us.length; k++) {
      assertEquals(
          expected[k], F64.sampleCategorical(cdf, new double[] {us[k]}, 4)[0], "u = " + us[k]);
    }
  }

  @Test
  void spaceToDepthGathersGroupsAndDepthToSpaceUndoesIt() {
    // One 2x2 image: the four pixels become the four groups G1..G4 in order.
    assertArrayEquals(
        new double[] {1, 2, 3, 4}, F64.spaceToDepth(new double[] {1, 2, 3, 4}, 1, 1, 2, 2, 2), 0);
    double[] x = HostData.uniform(random, 2 * 3 * 4 * 6, -1, 1);
    for (int block : new int[] {1, 2}) {
      assertArrayEquals(
          x, F64.depthToSpace(F64.spaceToDepth(x, 2, 3, 4, 6, block), 2, 3, 4, 6, block), 0);
    }
  }

  @Test
  void splitChannelsUndoesConcatChannels() {
    int[] channels = {2, 1, 3};
    List<double[]> parts =
        List.of(
            HostData.uniform(random, 2 * 2 * 5, -1, 1),
            HostData.uniform(random, 2 * 5, -1, 1),
            HostData.uniform(random, 2 * 3 * 5, -1, 1));
    List<double[]> back =
        F64.splitChannels(F64.concatChannels(parts, channels, 2, 5), channels, 2, 5);
    for (int k = 0; k < parts.size(); k++) {
      assertArrayEquals(parts.get(k), back.get(k), 0);
    }
  }

  @Test
  void matmulTransposesAsAsked() {
    double[] a = {1, 2, 3, 4, 5, 6}; // [2, 3]
    double[] b = {1, 0, 0, 1, 1, 1}; // [3, 2]
    assertArrayEquals(new double[] {4, 5, 10, 11}, F64.matmul(a, 2, 3, false, b, 3, 2, false), 0);
    // aᵀ·a is [3, 3] and symmetric
    double[] ata = F64.matmul(a, 2, 3, true, a, 2, 3, false);
    assertArrayEquals(new double[] {17, 22, 27, 22, 29, 36, 27, 36, 45}, ata, 0);
    assertArrayEquals(ata, F64.matmul(a, 2, 3, true, a, 2, 3, false), 0);
    assertArrayEquals(new double[] {14, 32, 32, 77}, F64.matmul(a, 2, 3, false, a, 2, 3, true), 0);
  }

  @Test
  void adamFirstStepMovesByAboutTheLearningRate() {
    // At step 1 the bias-corrected moments are g and g², so the step is lr·g/(|g| + eps).
    AdamOp op = AdamOp.defaults();
    double[] p = {1, -1};
    double[] m = new double[2];
    double[] v = new double[2];
    F64.adamStep(op, 1, p, new double[] {0.5, -2}, m, v);
    assertEquals(1 - 1e-3 * 0.5 / (0.5 + 1e-8), p[0], 1e-15);
    assertEquals(-1 + 1e-3 * 2 / (2 + 1e-8), p[1], 1e-15);
    assertEquals(0.05, m[0], 1e-15);
    assertEquals(0.001 * 4, v[1], 1e-15);
  }

  @Test
  void toleranceRejectsNanAndScalesWithTheNumberOfTerms() {
    Tolerance t = new Tolerance(1e-6, 1e-3);
    assertTrue(t.accepts(1000, 1000.9));
    assertFalse(t.accepts(1000, 1001.1));
    assertFalse(t.accepts(0, Double.NaN));
    assertFalse(t.accepts(Double.NaN, Double.NaN));
    assertTrue(t.accepts(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY));
    assertFalse(t.accepts(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY));
    assertEquals(1e-5, t.forSumOf(100).atol(), 1e-20);
  }

  @Test
  void drawnInputsAreExactFloatsAndAvoidThePoison() {
    for (double v : HostData.uniform(random, 1000, -1, 1)) {
      assertEquals(v, (float) v, 0);
    }
    for (double v : HostData.levels(random, 5000, 256)) {
      assertTrue(v != HostData.POISON_UINT8 && v >= 0 && v < 256);
    }
    for (double u : HostData.unitUniforms(random, 5000)) {
      assertTrue(u >= 0 && u < 1 && u == (float) u);
    }
    double[] mask = HostData.mask(random, 9);
    double ones = F64.sum(mask);
    assertTrue(ones >= 1 && ones <= 8, "a mask has both values");
  }

  private static void assertClose(double[] expected, double[] actual) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-7 * (1 + Math.abs(expected[i])), "element " + i);
    }
  }
}
