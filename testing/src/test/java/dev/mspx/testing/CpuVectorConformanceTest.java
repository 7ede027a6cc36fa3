package dev.mspx.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mspx.api.Backend;
import dev.mspx.api.Conv2dOp;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.backend.cpu.CpuVectorBackend;
import dev.mspx.testing.Tolerances.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API backend against the published conformance suite, at the default tolerances. Here
 * rather than in backend-cpu for the same reason as {@link CpuReferenceConformanceTest}.
 *
 * <p>The suite's convolutions have at most 16 channels, so they reach only the vector backend's
 * one-vector edge kernels. The cases added here are the sizes of the reference configurations (64 to
 * 256 output channels, the PixelCNN masks, pixel counts that leave a partial register tile), checked
 * against the scalar reference backend, as Jlama checks each fast variant against its naive control,
 * at the suite's convolution tolerance; and every result must be bit for bit the same whatever the
 * number of threads, which the causality properties rely on.
 */
class CpuVectorConformanceTest extends BackendConformanceSuite {

  @Override
  protected Backend createBackend() {
    return new CpuVectorBackend();
  }

  /** How a case's weight mask is made. */
  enum MaskKind {
    NONE,
    /** Rows strictly above the centre (the vertical stack's first layer). */
    VERTICAL_A,
    /** Rows above and the centre row (later vertical layers). */
    VERTICAL_B,
    /** Centre row left of the centre, the centre tap for no channel (first horizontal layer, C = 1). */
    HORIZONTAL_A,
    /** Centre row up to and including the centre (later horizontal layers). */
    HORIZONTAL_B,
    /** The last input channel cut from every output (a group net's head for C = 1). */
    LAST_CHANNEL_OFF,
    /** Independent random 0/1 per weight. */
    RANDOM
  }

  /** A convolution at the sizes the reference configurations use. */
  record WideCase(String name, int n, int cin, int cout, int h, int w, int k, MaskKind mask) {
    Conv2dOp op() {
      return Conv2dOp.of(cin, cout, k);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<WideCase> wideCases() {
    return Stream.of(
        new WideCase("3x3 64->64, 3 images of 9x7 (partial last tile)", 3, 64, 64, 9, 7, 3, MaskKind.NONE),
        new WideCase("3x3 64->64, 9 images of 7x7 (images shared out whole)", 9, 64, 64, 7, 7, 3, MaskKind.NONE),
        new WideCase("5x5 64->128 vertical B at 7x7", 2, 64, 128, 7, 7, 5, MaskKind.VERTICAL_B),
        new WideCase("5x5 1->128 vertical A at 7x7", 2, 1, 128, 7, 7, 5, MaskKind.VERTICAL_A),
        new WideCase("5x5 1->128 horizontal A at 7x7", 2, 1, 128, 7, 7, 5, MaskKind.HORIZONTAL_A),
        new WideCase("5x5 64->128 horizontal B at 7x7", 2, 64, 128, 7, 7, 5, MaskKind.HORIZONTAL_B),
        new WideCase("1x1 65->64, last input channel off, 5x6", 2, 65, 64, 5, 6, 1, MaskKind.LAST_CHANNEL_OFF),
        new WideCase("1x1 64->256 at 4x4", 1, 64, 256, 4, 4, 1, MaskKind.NONE),
        new WideCase("3x3 3->80 (one 4-vector block and one vector), random mask", 2, 3, 80, 6, 5, 3, MaskKind.RANDOM),
        new WideCase("3x3 70->20 on a 2x3 image", 2, 70, 20, 2, 3, 3, MaskKind.NONE),
        new WideCase("5x5 64->128 vertical B, one 11x13 image (copied in row bands)", 1, 64, 128, 11, 13, 5, MaskKind.VERTICAL_B));
  }

  private double[] mask(WideCase c) {
    int k = c.k(), p = k / 2, taps = k * k;
    double[] m = new double[c.cout() * c.cin() * taps];
    if (c.mask() == MaskKind.RANDOM) {
      return HostData.mask(random, m.length);
    }
    for (int o = 0; o < c.cout(); o++) {
      for (int i = 0; i < c.cin(); i++) {
        for (int y = 0; y < k; y++) {
          for (int x = 0; x < k; x++) {
            boolean on =
                switch (c.mask()) {
                  case NONE, RANDOM -> true;
                  case VERTICAL_A -> y < p;
                  case VERTICAL_B -> y <= p;
                  case HORIZONTAL_A -> y == p && x < p;
                  case HORIZONTAL_B -> y == p && x <= p;
                  case LAST_CHANNEL_OFF -> i < c.cin() - 1;
                };
            m[((o * c.cin() + i) * k + y) * k + x] = on ? 1 : 0;
          }
        }
      }
    }
    return m;
  }

  /** Forward, backward-data and backward-filter (with the bias gradient) of one case. */
  private List<double[]> convolutions(Backend b, WideCase c, double[] x, double[] w, double[] m, double[] bias, double[] dy) {
    Shape in = Shape.nchw(c.n(), c.cin(), c.h(), c.w());
    Shape out = Shape.nchw(c.n(), c.cout(), c.h(), c.w());
    Conv2dOp op = c.op();
    List<double[]> results = new ArrayList<>();
    try (Tensor xt = put(b, "x", in, x);
        Tensor wt = put(b, "w", op.weightShape(), w);
        Tensor mt = c.mask() == MaskKind.NONE ? null : put(b, "mask", op.weightShape(), m);
        Tensor bt = put(b, "bias", Shape.of(c.cout()), bias);
        Tensor dyt = put(b, "dy", out, dy);
        Tensor y = b.allocate(out, dev.mspx.api.DType.FLOAT32, "y");
        Tensor dx = b.allocate(in, dev.mspx.api.DType.FLOAT32, "dx");
        Tensor dw = b.allocate(op.weightShape(), dev.mspx.api.DType.FLOAT32, "dw");
        Tensor db = b.allocate(Shape.of(c.cout()), dev.mspx.api.DType.FLOAT32, "dbias")) {
      b.conv2d(op, xt, wt, mt, bt, y);
      b.conv2dBackwardData(op, dyt, wt, mt, dx);
      b.conv2dBackwardFilter(op, xt, dyt, mt, dw, db);
      for (Tensor t : List.of(y, dx, dw, db)) {
        results.add(get(b, t));
      }
    }
    return results;
  }

  private Tensor put(Backend b, String label, Shape shape, double[] values) {
    Tensor t = b.allocate(shape, dev.mspx.api.DType.FLOAT32, label);
    try (HostTensor h = HostData.toHost(host, shape, dev.mspx.api.DType.FLOAT32, values, label + "@staging")) {
      b.copyFromHost(h, t);
    }
    return t;
  }

  private double[] get(Backend b, Tensor t) {
    try (HostTensor h = host.allocate(t.shape(), t.dtype(), t.label() + "@host")) {
      b.copyToHost(t, h);
      return HostData.values(h);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("wideCases")
  public void wideConvolutionsMatchTheReferenceBackend(WideCase c) {
    int inSize = c.n() * c.cin() * c.h() * c.w();
    int outSize = c.n() * c.cout() * c.h() * c.w();
    double[] x = HostData.uniform(random, inSize, -1, 1);
    double[] w = HostData.uniform(random, c.cout() * c.cin() * c.k() * c.k(), -1, 1);
    double[] m = mask(c);
    double[] bias = HostData.uniform(random, c.cout(), -1, 1);
    double[] dy = HostData.uniform(random, outSize, -1, 1);
    List<double[]> expected;
    try (Backend reference = new CpuReferenceBackend()) {
      expected = convolutions(reference, c, x, w, m, bias, dy);
    }
    List<double[]> actual = convolutions(backend, c, x, w, m, bias, dy);
    Tolerance conv = tolerances().convolution();
    int taps = c.k() * c.k();
    long pixels = (long) c.n() * c.h() * c.w();
    String op = c.op().toString();
    Shape in = Shape.nchw(c.n(), c.cin(), c.h(), c.w());
    Shape out = Shape.nchw(c.n(), c.cout(), c.h(), c.w());
    expectCloseValues(op, "y", out, conv.forSumOf((long) c.cin() * taps), expected.get(0), actual.get(0));
    expectCloseValues(op + " backward-data", "dx", in, conv.forSumOf((long) c.cout() * taps), expected.get(1), actual.get(1));
    expectCloseValues(op + " backward-filter", "dw", c.op().weightShape(), conv.forSumOf(pixels), expected.get(2), actual.get(2));
    expectCloseValues(op + " backward-filter", "dbias", Shape.of(c.cout()), conv.forSumOf(pixels), expected.get(3), actual.get(3));
    for (int i = 0; i < m.length; i++) {
      if (c.mask() != MaskKind.NONE && m[i] == 0 && actual.get(2)[i] != 0) {
        throw new AssertionError(op + ": dw" + index(c.op().weightShape(), i) + " = " + actual.get(2)[i] + " where the mask is 0" + where());
      }
    }
  }

  /**
   * Softmax cross-entropy, its gradient and sampling on one large plane of 256 levels, which the
   * vector backend splits into pixel ranges across threads (the suite's planes are 6 pixels).
   */
  @org.junit.jupiter.api.Test
  public void largePlanesOfLogitsMatchTheReferenceBackend() {
    int n = 1, levels = 256, h = 24, w = 21, hw = h * w;
    Shape logitShape = Shape.nchw(n, levels, h, w);
    Shape subpixels = Shape.nchw(n, 1, h, w);
    double[] logits = HostData.uniform(random, levels * hw, -4, 4);
    double[] targets = HostData.targets(random, hw, levels);
    double[] dnll = HostData.uniform(random, hw, -1, 1);
    double[] uniforms = HostData.unitUniforms(random, hw);
    List<double[]> expected;
    try (Backend reference = new CpuReferenceBackend()) {
      expected = likelihood(reference, logitShape, subpixels, logits, targets, dnll, uniforms);
    }
    List<double[]> actual = likelihood(backend, logitShape, subpixels, logits, targets, dnll, uniforms);
    expectCloseValues("softmaxCrossEntropy", "nll", subpixels, tolerances().softmax(), expected.get(0), actual.get(0));
    expectCloseValues(
        "softmaxCrossEntropyBackward", "dlogits", logitShape, tolerances().softmax(), expected.get(1), actual.get(1));
    int differ = 0;
    for (int k = 0; k < hw; k++) {
      differ += expected.get(2)[k] == actual.get(2)[k] ? 0 : 1;
    }
    // Both draw by the inverse CDF in double from the same uniforms: only a u within rounding of a
    // CDF boundary could tip, so at most a handful of 504 draws may differ.
    if (differ > 2) {
      throw new AssertionError("sampleCategorical: " + differ + " of " + hw + " draws differ from the reference" + where());
    }
  }

  private List<double[]> likelihood(
      Backend b, Shape logitShape, Shape subpixels, double[] logits, double[] targets, double[] dnll, double[] uniforms) {
    try (Tensor lt = put(b, "logits", logitShape, logits);
        Tensor tt = b.allocate(subpixels, dev.mspx.api.DType.UINT8, "targets");
        Tensor dt = put(b, "dnll", subpixels, dnll);
        Tensor ut = put(b, "uniforms", subpixels, uniforms);
        Tensor nll = b.allocate(subpixels, dev.mspx.api.DType.FLOAT32, "nll");
        Tensor dl = b.allocate(logitShape, dev.mspx.api.DType.FLOAT32, "dlogits");
        Tensor drawn = b.allocate(subpixels, dev.mspx.api.DType.UINT8, "drawn")) {
      try (HostTensor h = HostData.toHost(host, subpixels, dev.mspx.api.DType.UINT8, targets, "targets@staging")) {
        b.copyFromHost(h, tt);
      }
      b.softmaxCrossEntropy(lt, tt, nll);
      b.softmaxCrossEntropyBackward(lt, tt, dt, dl);
      b.sampleCategorical(lt, ut, drawn);
      return List.of(get(b, nll), get(b, dl), get(b, drawn));
    }
  }

  /** One, two and three threads give the same bits: the accumulation order is fixed per element. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("wideCases")
  public void resultsDoNotDependOnTheThreadCount(WideCase c) {
    double[] x = HostData.uniform(random, c.n() * c.cin() * c.h() * c.w(), -1, 1);
    double[] w = HostData.uniform(random, c.cout() * c.cin() * c.k() * c.k(), -1, 1);
    double[] m = mask(c);
    double[] bias = HostData.uniform(random, c.cout(), -1, 1);
    double[] dy = HostData.uniform(random, c.n() * c.cout() * c.h() * c.w(), -1, 1);
    List<double[]> first = null;
    for (int threads = 1; threads <= 3; threads++) {
      List<double[]> results;
      try (Backend b = new CpuVectorBackend("cpu-vector-" + threads, threads)) {
        results = convolutions(b, c, x, w, m, bias, dy);
      }
      if (first == null) {
        first = results;
        continue;
      }
      String[] names = {"y", "dx", "dw", "dbias"};
      for (int k = 0; k < names.length; k++) {
        assertArrayEquals(first.get(k), results.get(k), c + ": " + names[k] + " with " + threads + " threads differs from 1 thread" + where());
      }
    }
  }
}
