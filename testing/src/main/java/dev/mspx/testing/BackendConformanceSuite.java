package dev.mspx.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mspx.api.AdamOp;
import dev.mspx.api.Backend;
import dev.mspx.api.Conv2dOp;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryLeakException;
import dev.mspx.api.Shape;
import dev.mspx.api.ShapeMismatchException;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;
import dev.mspx.testing.F64.ConvGeometry;
import dev.mspx.testing.Tolerances.Tolerance;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The published conformance suite of the {@link Backend} SPI (DESIGN.md section 5: "backends agree
 * with the scalar oracle within per-op tolerances, forward and backward"). A backend module runs it
 * by extending this class in its own tests:
 *
 * <pre>{@code
 * class CpuReferenceConformanceTest extends BackendConformanceSuite {
 *   @Override
 *   protected Backend createBackend() {
 *     return new CpuReferenceBackend();
 *   }
 * }
 * }</pre>
 *
 * <p>Every op is checked, forward and backward, against the suite's own float64 oracle ({@link
 * F64}) on fresh random inputs, and every gradient op also against central finite differences
 * ({@link FiniteDifferences}) of that oracle. Outputs are {@linkplain #poisoned poisoned} before
 * each op, so an element an op forgot to write fails. Validation, memory accounting, workspaces,
 * leak reports and transfers are checked too.
 *
 * <p>Each test gets a fresh backend and a fresh {@link HostMemory}; after the test the backend must
 * hold zero outstanding bytes and close without a {@link MemoryLeakException}. Data reaches the
 * backend only through {@link Backend#copyFromHost}/{@link Backend#copyToHost} (and their {@code
 * fromHost}/{@code toHost} forms), never by assuming its tensors are host tensors, so a device
 * backend runs the suite unchanged.
 *
 * <p>Each test draws its inputs from its own seed, printed in every failure message; set the system
 * property {@value #SEED_PROPERTY} to rerun with that seed. Test methods are public so that a
 * backend may override one (to disable it, with a reason).
 */
public abstract class BackendConformanceSuite {

  /** System property that fixes the seed of every test, e.g. to replay a failure. */
  public static final String SEED_PROPERTY = "mspx.conformance.seed";

  /** The backend under test, fresh for each test. */
  protected Backend backend;

  /** Host staging memory, fresh for each test; it too must end each test with nothing open. */
  protected HostMemory host;

  /** The test's source of random inputs, seeded by {@link #seed()}. */
  protected SplittableRandom random;

  private long seed;
  private String testName;

  /**
   * A new instance of the backend under test. Called once per test, and again by the tests that
   * need a second backend.
   */
  protected abstract Backend createBackend();

  /** The tolerances this backend is held to; override to loosen them, saying why. */
  protected Tolerances tolerances() {
    return Tolerances.float32();
  }

  /** The seed of the running test's inputs. */
  protected final long seed() {
    return seed;
  }

  @BeforeEach
  public final void openBackend(TestInfo info) {
    String fixed = System.getProperty(SEED_PROPERTY);
    seed = fixed != null ? Long.decode(fixed.strip()) : new SplittableRandom().nextLong();
    random = new SplittableRandom(seed);
    testName =
        info.getTestMethod().map(java.lang.reflect.Method::getName).orElse("?")
            + " "
            + info.getDisplayName();
    host = HostMemory.create("conformance");
    backend = createBackend();
  }

  /**
   * Every test must leave nothing open: zero outstanding bytes, and a close that does not throw.
   */
  @AfterEach
  public final void closeBackend() {
    long open = backend.outstandingBytes();
    RuntimeException closeFailure = null;
    try {
      backend.close();
    } catch (RuntimeException e) {
      closeFailure = e;
    }
    long hostOpen = host.outstandingBytes();
    RuntimeException hostFailure = null;
    try {
      host.close();
    } catch (RuntimeException e) {
      hostFailure = e;
    }
    assertEquals(0, open, "backend " + backend.name() + " holds bytes after the test" + where());
    if (closeFailure != null) {
      throw new AssertionError(
          "closing backend " + backend.name() + " failed" + where(), closeFailure);
    }
    assertEquals(0, hostOpen, "host staging memory still open after the test" + where());
    if (hostFailure != null) {
      throw new AssertionError("closing host staging memory failed" + where(), hostFailure);
    }
  }

  // ================================================================ convolution

  /**
   * One conv2d call's sizes and options.
   *
   * @param name a display name for the test report
   */
  public record ConvCase(
      String name,
      int n,
      int cin,
      int cout,
      int h,
      int w,
      int kh,
      int kw,
      boolean masked,
      boolean bias) {

    public Conv2dOp op() {
      return Conv2dOp.of(cin, cout, kh, kw);
    }

    public ConvGeometry geometry() {
      return new ConvGeometry(n, cin, cout, h, w, kh, kw);
    }

    public Shape input() {
      return Shape.nchw(n, cin, h, w);
    }

    public Shape output() {
      return Shape.nchw(n, cout, h, w);
    }

    public Shape weight() {
      return Shape.of(cout, cin, kh, kw);
    }

    @Override
    public String toString() {
      return name;
    }
  }

  /** Kernels 1x1, 3x3, 5x5, 1x3, 3x1, 3x5; channel counts 1 to 16; batch above 1; H ≠ W. */
  public static Stream<ConvCase> convolutionCases() {
    return Stream.of(
        new ConvCase("1x1 3->4 masked, bias", 2, 3, 4, 5, 6, 1, 1, true, true),
        new ConvCase("1x1 1->2", 1, 1, 2, 3, 2, 1, 1, false, false),
        new ConvCase("3x3 2->3 bias", 2, 2, 3, 6, 5, 3, 3, false, true),
        new ConvCase("3x3 4->4 masked", 2, 4, 4, 4, 7, 3, 3, true, false),
        new ConvCase("5x5 3->2 masked, bias", 2, 3, 2, 7, 9, 5, 5, true, true),
        new ConvCase("5x5 2->3 on a 2x3 image, bias", 2, 2, 3, 2, 3, 5, 5, false, true),
        new ConvCase("1x3 3->5 masked, bias", 2, 3, 5, 4, 6, 1, 3, true, true),
        new ConvCase("3x1 5->3", 3, 5, 3, 6, 4, 3, 1, false, false),
        new ConvCase("3x5 2->2 masked, bias", 2, 2, 2, 5, 6, 3, 5, true, true),
        new ConvCase("3x3 16->8 masked, bias", 2, 16, 8, 8, 8, 3, 3, true, true));
  }

  /** Small cases, for finite differences that evaluate the convolution twice per input element. */
  public static Stream<ConvCase> finiteDifferenceConvolutionCases() {
    return Stream.of(
        new ConvCase("3x3 2->3 masked, bias", 2, 2, 3, 4, 5, 3, 3, true, true),
        new ConvCase("1x3 2->2 bias", 2, 2, 2, 3, 4, 1, 3, false, true),
        new ConvCase("3x1 1->2", 1, 1, 2, 4, 3, 3, 1, false, false),
        new ConvCase("5x5 2->1 on a 3x2 image, masked, bias", 2, 2, 1, 3, 2, 5, 5, true, true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convolutionCases")
  public void conv2dMatchesOracle(ConvCase c) {
    double[] x = HostData.uniform(random, size(c.input()), -1, 1);
    double[] w = HostData.uniform(random, size(c.weight()), -1, 1);
    double[] mask = c.masked() ? HostData.mask(random, size(c.weight())) : null;
    double[] bias = c.bias() ? HostData.uniform(random, c.cout(), -1, 1) : null;
    try (Tensor xt = upload("x", c.input(), x);
        Tensor wt = upload("w", c.weight(), w);
        Tensor mt = mask == null ? null : upload("mask", c.weight(), mask);
        Tensor bt = bias == null ? null : upload("bias", Shape.of(c.cout()), bias);
        Tensor y = poisoned("y", c.output())) {
      backend.conv2d(c.op(), xt, wt, mt, bt, y);
      expectClose(
          c.op().toString(),
          tolerances().convolution().forSumOf((long) c.cin() * c.kh() * c.kw()),
          F64.conv2d(c.geometry(), x, w, mask, bias),
          y);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convolutionCases")
  public void conv2dBackwardDataMatchesOracle(ConvCase c) {
    double[] dy = HostData.uniform(random, size(c.output()), -1, 1);
    double[] w = HostData.uniform(random, size(c.weight()), -1, 1);
    double[] mask = c.masked() ? HostData.mask(random, size(c.weight())) : null;
    try (Tensor dyt = upload("dy", c.output(), dy);
        Tensor wt = upload("w", c.weight(), w);
        Tensor mt = mask == null ? null : upload("mask", c.weight(), mask);
        Tensor dx = poisoned("dx", c.input())) {
      backend.conv2dBackwardData(c.op(), dyt, wt, mt, dx);
      expectClose(
          c.op() + " backward-data",
          tolerances().convolution().forSumOf((long) c.cout() * c.kh() * c.kw()),
          F64.conv2dBackwardData(c.geometry(), dy, w, mask),
          dx);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("convolutionCases")
  public void conv2dBackwardFilterMatchesOracle(ConvCase c) {
    double[] x = HostData.uniform(random, size(c.input()), -1, 1);
    double[] dy = HostData.uniform(random, size(c.output()), -1, 1);
    double[] mask = c.masked() ? HostData.mask(random, size(c.weight())) : null;
    String op = c.op() + " backward-filter";
    Tolerance tolerance = tolerances().convolution().forSumOf((long) c.n() * c.h() * c.w());
    try (Tensor xt = upload("x", c.input(), x);
        Tensor dyt = upload("dy", c.output(), dy);
        Tensor mt = mask == null ? null : upload("mask", c.weight(), mask);
        Tensor dw = poisoned("dw", c.weight());
        Tensor dbias = c.bias() ? poisoned("dbias", Shape.of(c.cout())) : null) {
      backend.conv2dBackwardFilter(c.op(), xt, dyt, mt, dw, dbias);
      double[] actual = download(dw);
      expectCloseValues(
          op,
          dw.describe(),
          c.weight(),
          tolerance,
          F64.conv2dBackwardFilter(c.geometry(), x, dy, mask),
          actual);
      if (mask != null) {
        // "zero where the mask is zero": exactly, not merely within tolerance.
        for (int i = 0; i < mask.length; i++) {
          if (mask[i] == 0 && actual[i] != 0) {
            fail(
                op
                    + ": dw"
                    + index(c.weight(), i)
                    + " = "
                    + actual[i]
                    + " where the mask is 0"
                    + where());
          }
        }
      }
      if (dbias != null) {
        expectClose(op, tolerance, F64.conv2dBackwardBias(c.geometry(), dy), dbias);
      }
    }
  }

  /**
   * The backward ops are the gradient of the forward: dx, dw and dbias against finite differences.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("finiteDifferenceConvolutionCases")
  public void conv2dGradientsMatchFiniteDifferences(ConvCase c) {
    ConvGeometry g = c.geometry();
    double[] x = HostData.uniform(random, size(c.input()), -1, 1);
    double[] w = HostData.uniform(random, size(c.weight()), -1, 1);
    double[] mask = c.masked() ? HostData.mask(random, size(c.weight())) : null;
    double[] bias = c.bias() ? HostData.uniform(random, c.cout(), -1, 1) : null;
    double[] r = HostData.uniform(random, size(c.output()), -1, 1);
    double[] fdX = FiniteDifferences.gradient(x, p -> F64.dot(r, F64.conv2d(g, p, w, mask, bias)));
    double[] fdW = FiniteDifferences.gradient(w, p -> F64.dot(r, F64.conv2d(g, x, p, mask, bias)));
    Tolerance tolerance = tolerances().finiteDifference();
    String op = c.op() + " gradient";
    try (Tensor xt = upload("x", c.input(), x);
        Tensor wt = upload("w", c.weight(), w);
        Tensor mt = mask == null ? null : upload("mask", c.weight(), mask);
        Tensor rt = upload("r", c.output(), r);
        Tensor dx = poisoned("dx", c.input());
        Tensor dw = poisoned("dw", c.weight());
        Tensor dbias = c.bias() ? poisoned("dbias", Shape.of(c.cout())) : null) {
      backend.conv2dBackwardData(c.op(), rt, wt, mt, dx);
      backend.conv2dBackwardFilter(c.op(), xt, rt, mt, dw, dbias);
      expectClose(op, tolerance, fdX, dx);
      expectClose(op, tolerance, fdW, dw);
      if (dbias != null) {
        double[] fdBias =
            FiniteDifferences.gradient(bias, p -> F64.dot(r, F64.conv2d(g, x, w, mask, p)));
        expectClose(op, tolerance, fdBias, dbias);
      }
    }
  }

  // ================================================================ activations

  /**
   * Gate inputs {@code [2, 2f, 3, 5]} in [-3, 3], with saturating extremes in both halves (sample
   * 0's tanh half, sample 1's sigmoid half, and both halves of one pixel), where a naive tanh or
   * sigmoid overflows to inf/inf.
   */
  private double[] gateInputs(int f) {
    int hw = 15;
    double[] pre = HostData.uniform(random, 2 * 2 * f * hw, -3, 3);
    double[] extremes = {30, -30, 100, -100, 1000, -1000};
    for (int k = 0; k < extremes.length; k++) {
      pre[k] = extremes[k]; // sample 0, tanh half
      pre[(2 * f + f) * hw + k] = extremes[k]; // sample 1, sigmoid half
    }
    pre[hw - 1] = 1000; // sample 0, last pixel: both halves saturate
    pre[f * hw + hw - 1] = -1000;
    return pre;
  }

  @ParameterizedTest(name = "F = {0}")
  @ValueSource(ints = {1, 4})
  public void gateMatchesOracle(int f) {
    Shape preShape = Shape.nchw(2, 2 * f, 3, 5);
    Shape outShape = Shape.nchw(2, f, 3, 5);
    double[] pre = gateInputs(f);
    try (Tensor pt = upload("pre", preShape, pre);
        Tensor out = poisoned("out", outShape)) {
      backend.gate(pt, out);
      expectClose("gate", tolerances().activation(), F64.gate(pre, 2, f, 15), out);
    }
  }

  @ParameterizedTest(name = "F = {0}")
  @ValueSource(ints = {1, 4})
  public void gateBackwardMatchesOracle(int f) {
    Shape preShape = Shape.nchw(2, 2 * f, 3, 5);
    Shape outShape = Shape.nchw(2, f, 3, 5);
    double[] pre = gateInputs(f);
    double[] dout = HostData.uniform(random, size(outShape), -1, 1);
    try (Tensor pt = upload("pre", preShape, pre);
        Tensor dt = upload("dout", outShape, dout);
        Tensor dpre = poisoned("dpre", preShape)) {
      backend.gateBackward(pt, dt, dpre);
      expectClose(
          "gateBackward", tolerances().activation(), F64.gateBackward(pre, dout, 2, f, 15), dpre);
    }
  }

  @Test
  public void gateBackwardMatchesFiniteDifferences() {
    int f = 3;
    Shape preShape = Shape.nchw(2, 2 * f, 2, 3);
    Shape outShape = Shape.nchw(2, f, 2, 3);
    double[] pre = HostData.uniform(random, size(preShape), -3, 3);
    double[] r = HostData.uniform(random, size(outShape), -1, 1);
    double[] fd = FiniteDifferences.gradient(pre, p -> F64.dot(r, F64.gate(p, 2, f, 6)));
    try (Tensor pt = upload("pre", preShape, pre);
        Tensor rt = upload("r", outShape, r);
        Tensor dpre = poisoned("dpre", preShape)) {
      backend.gateBackward(pt, rt, dpre);
      expectClose("gateBackward gradient", tolerances().finiteDifference(), fd, dpre);
    }
  }

  /**
   * Relu inputs with exact zeros of both signs: the SPI's {@code [x > 0]} makes both count as off.
   */
  private double[] reluInputs(int n) {
    double[] x = HostData.uniform(random, n, -1, 1);
    x[0] = 0.0;
    x[n - 1] = -0.0;
    return x;
  }

  @Test
  public void reluMatchesOracle() {
    Shape shape = Shape.nchw(2, 3, 4, 5);
    double[] x = reluInputs(size(shape));
    try (Tensor xt = upload("x", shape, x);
        Tensor y = poisoned("y", shape)) {
      backend.relu(xt, y);
      expectClose("relu", tolerances().elementwise(), F64.relu(x), y);
    }
  }

  @Test
  public void reluInPlaceMatchesOracle() {
    Shape shape = Shape.nchw(2, 3, 4, 5);
    double[] x = reluInputs(size(shape));
    try (Tensor xt = upload("x", shape, x)) {
      backend.relu(xt, xt);
      expectClose("relu in place", tolerances().elementwise(), F64.relu(x), xt);
    }
  }

  @Test
  public void reluBackwardMatchesOracle() {
    Shape shape = Shape.nchw(2, 3, 4, 5);
    double[] x = reluInputs(size(shape));
    double[] dy = HostData.uniform(random, size(shape), -1, 1);
    try (Tensor xt = upload("x", shape, x);
        Tensor dyt = upload("dy", shape, dy);
        Tensor dx = poisoned("dx", shape)) {
      backend.reluBackward(xt, dyt, dx);
      expectClose("reluBackward", tolerances().elementwise(), F64.reluBackward(x, dy), dx);
      // dx may be dy: the in-place form must agree.
      backend.reluBackward(xt, dyt, dyt);
      expectClose(
          "reluBackward in place", tolerances().elementwise(), F64.reluBackward(x, dy), dyt);
    }
  }

  @Test
  public void reluBackwardMatchesFiniteDifferences() {
    Shape shape = Shape.nchw(2, 2, 3, 4);
    // Away from the kink at 0, so that no difference straddles it.
    double[] x = HostData.awayFromZero(random, size(shape), 0.05, 1);
    double[] r = HostData.uniform(random, size(shape), -1, 1);
    double[] fd = FiniteDifferences.gradient(x, p -> F64.dot(r, F64.relu(p)));
    try (Tensor xt = upload("x", shape, x);
        Tensor rt = upload("r", shape, r);
        Tensor dx = poisoned("dx", shape)) {
      backend.reluBackward(xt, rt, dx);
      expectClose("reluBackward gradient", tolerances().finiteDifference(), fd, dx);
    }
  }

  // ================================================================ elementwise

  @Test
  public void addMatchesOracle() {
    Shape shape = Shape.nchw(2, 3, 4, 5);
    double[] a = HostData.uniform(random, size(shape), -1, 1);
    double[] b = HostData.uniform(random, size(shape), -1, 1);
    double[] expected = F64.add(a, b);
    Tolerance tolerance = tolerances().elementwise();
    try (Tensor at = upload("a", shape, a);
        Tensor bt = upload("b", shape, b);
        Tensor out = poisoned("out", shape)) {
      backend.add(at, bt, out);
      expectClose("add", tolerance, expected, out);
    }
    // out may be a or b.
    try (Tensor at = upload("a", shape, a);
        Tensor bt = upload("b", shape, b)) {
      backend.add(at, bt, at);
      expectClose("add into a", tolerance, expected, at);
      backend.add(at, bt, bt);
      expectClose("add into b", tolerance, F64.add(expected, b), bt);
    }
  }

  @ParameterizedTest(name = "alpha = {0}")
  @ValueSource(doubles = {0, 1, -2.5, 0.1, 1e-3})
  public void scaleMatchesOracle(double alpha) {
    Shape shape = Shape.nchw(2, 3, 4, 5);
    double[] x = HostData.uniform(random, size(shape), -1, 1);
    try (Tensor xt = upload("x", shape, x);
        Tensor out = poisoned("out", shape)) {
      backend.scale(xt, alpha, out);
      expectClose("scale", tolerances().elementwise(), F64.scale(x, alpha), out);
      backend.scale(xt, alpha, xt);
      expectClose("scale in place", tolerances().elementwise(), F64.scale(x, alpha), xt);
    }
  }

  @Test
  public void addChannelBiasMatchesOracle() {
    Shape shape = Shape.nchw(3, 4, 2, 5);
    Shape biasShape = Shape.of(3, 4);
    double[] x = HostData.uniform(random, size(shape), -1, 1);
    double[] bias = HostData.uniform(random, 12, -1, 1);
    double[] expected = F64.addChannelBias(x, bias, 12, 10);
    try (Tensor xt = upload("x", shape, x);
        Tensor bt = upload("bias", biasShape, bias);
        Tensor out = poisoned("out", shape)) {
      backend.addChannelBias(xt, bt, out);
      expectClose("addChannelBias", tolerances().elementwise(), expected, out);
      backend.addChannelBias(xt, bt, xt);
      expectClose("addChannelBias in place", tolerances().elementwise(), expected, xt);
    }
  }

  @Test
  public void sumSpatialMatchesOracle() {
    Shape shape = Shape.nchw(3, 4, 5, 6);
    double[] dy = HostData.uniform(random, size(shape), -1, 1);
    try (Tensor dyt = upload("dy", shape, dy);
        Tensor out = poisoned("out", Shape.of(3, 4))) {
      backend.sumSpatial(dyt, out);
      expectClose(
          "sumSpatial", tolerances().reduction().forSumOf(30), F64.sumSpatial(dy, 12, 30), out);
    }
  }

  /** sumSpatial is the bias gradient of addChannelBias. */
  @Test
  public void addChannelBiasGradientMatchesFiniteDifferences() {
    Shape shape = Shape.nchw(2, 3, 3, 4);
    double[] x = HostData.uniform(random, size(shape), -1, 1);
    double[] bias = HostData.uniform(random, 6, -1, 1);
    double[] r = HostData.uniform(random, size(shape), -1, 1);
    double[] fd =
        FiniteDifferences.gradient(bias, p -> F64.dot(r, F64.addChannelBias(x, p, 6, 12)));
    try (Tensor rt = upload("r", shape, r);
        Tensor dbias = poisoned("dbias", Shape.of(2, 3))) {
      backend.sumSpatial(rt, dbias);
      expectClose("sumSpatial gradient", tolerances().finiteDifference(), fd, dbias);
    }
  }

  @ParameterizedTest(name = "L = {0}")
  @ValueSource(ints = {2, 16, 256})
  public void dequantizeMatchesOracle(int levels) {
    Shape shape = Shape.nchw(2, 3, 4, 5);
    double[] x = HostData.levels(random, size(shape), levels);
    x[0] = 0;
    x[1] = levels - 1;
    try (Tensor xt = upload("x", shape, DType.UINT8, x);
        Tensor out = poisoned("out", shape)) {
      backend.dequantize(xt, levels, out);
      double[] expected = F64.dequantize(x, levels);
      expectClose("dequantize(" + levels + ")", tolerances().elementwise(), expected, out);
      double[] actual = download(out);
      assertEquals(
          -1, actual[0], 0, "dequantize(" + levels + "): level 0 must map to -1" + where());
      assertEquals(
          1, actual[1], 0, "dequantize(" + levels + "): level L-1 must map to 1" + where());
    }
  }

  // ================================================================ layout

  /** A channel layout: the dtype and the channel count of each part. */
  public record LayoutCase(DType dtype, int... channels) {
    @Override
    public String toString() {
      return dtype + " parts " + Arrays.toString(channels);
    }
  }

  public static Stream<LayoutCase> channelLayoutCases() {
    return Stream.of(DType.FLOAT32, DType.UINT8, DType.INT32)
        .flatMap(d -> Stream.of(new LayoutCase(d, 1, 3), new LayoutCase(d, 2, 1, 3)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("channelLayoutCases")
  public void concatChannelsMatchesOracle(LayoutCase c) {
    int n = 2;
    int hw = 12;
    List<double[]> parts = new ArrayList<>();
    int total = 0;
    for (int ch : c.channels()) {
      parts.add(HostData.of(random, n * ch * hw, c.dtype()));
      total += ch;
    }
    try (TensorList inputs = new TensorList();
        Tensor out = poisoned("out", Shape.nchw(n, total, 3, 4), c.dtype())) {
      for (int k = 0; k < parts.size(); k++) {
        inputs.add(
            upload("part" + k, Shape.nchw(n, c.channels()[k], 3, 4), c.dtype(), parts.get(k)));
      }
      backend.concatChannels(inputs.tensors(), out);
      expectExact("concatChannels", F64.concatChannels(parts, c.channels(), n, hw), out);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("channelLayoutCases")
  public void splitChannelsMatchesOracle(LayoutCase c) {
    int n = 2;
    int hw = 12;
    int total = Arrays.stream(c.channels()).sum();
    Shape inShape = Shape.nchw(n, total, 3, 4);
    double[] in = HostData.of(random, size(inShape), c.dtype());
    List<double[]> expected = F64.splitChannels(in, c.channels(), n, hw);
    try (Tensor it = upload("in", inShape, c.dtype(), in);
        TensorList outputs = new TensorList()) {
      for (int k = 0; k < c.channels().length; k++) {
        outputs.add(poisoned("part" + k, Shape.nchw(n, c.channels()[k], 3, 4), c.dtype()));
      }
      backend.splitChannels(it, outputs.tensors());
      for (int k = 0; k < c.channels().length; k++) {
        expectExact("splitChannels", expected.get(k), outputs.tensors().get(k));
      }
    }
  }

  /** A space-to-depth case: dtype and block. */
  public record BlockCase(DType dtype, int block) {
    @Override
    public String toString() {
      return dtype + " block " + block;
    }
  }

  public static Stream<BlockCase> blockCases() {
    return Stream.of(DType.FLOAT32, DType.UINT8, DType.INT32)
        .flatMap(d -> Stream.of(new BlockCase(d, 1), new BlockCase(d, 2), new BlockCase(d, 4)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("blockCases")
  public void spaceToDepthMatchesOracle(BlockCase c) {
    int b = c.block();
    Shape space = Shape.nchw(2, 3, 4, 8);
    Shape depth = Shape.nchw(2, 3 * b * b, 4 / b, 8 / b);
    double[] x = HostData.of(random, size(space), c.dtype());
    try (Tensor xt = upload("x", space, c.dtype(), x);
        Tensor out = poisoned("out", depth, c.dtype())) {
      backend.spaceToDepth(xt, b, out);
      expectExact("spaceToDepth(" + b + ")", F64.spaceToDepth(x, 2, 3, 4, 8, b), out);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("blockCases")
  public void depthToSpaceMatchesOracle(BlockCase c) {
    int b = c.block();
    Shape space = Shape.nchw(2, 3, 4, 8);
    Shape depth = Shape.nchw(2, 3 * b * b, 4 / b, 8 / b);
    double[] x = HostData.of(random, size(depth), c.dtype());
    try (Tensor xt = upload("x", depth, c.dtype(), x);
        Tensor out = poisoned("out", space, c.dtype())) {
      backend.depthToSpace(xt, b, out);
      expectExact("depthToSpace(" + b + ")", F64.depthToSpace(x, 2, 3, 4, 8, b), out);
    }
  }

  /**
   * The pixel groups of DESIGN.md, read straight from its table: with block 2, channel block g of
   * spaceToDepth is G1 {@code [0::2, 0::2]}, G2 {@code [0::2, 1::2]}, G3 {@code [1::2, 0::2]}, G4
   * {@code [1::2, 1::2]}; and depthToSpace puts them back.
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(DType.class)
  public void spaceToDepthGathersThePixelGroupsAndDepthToSpaceRestoresThem(DType dtype) {
    int c = 3;
    Shape space = Shape.nchw(2, c, 6, 4);
    Shape depth = Shape.nchw(2, 4 * c, 3, 2);
    double[] x = HostData.of(random, size(space), dtype);
    int[][] groupOffsets = {{0, 0}, {0, 1}, {1, 0}, {1, 1}}; // G1..G4 as (row, column) offsets
    try (Tensor xt = upload("x", space, dtype, x);
        Tensor groups = poisoned("groups", depth, dtype);
        Tensor back = poisoned("back", space, dtype)) {
      backend.spaceToDepth(xt, 2, groups);
      double[] g = download(groups);
      for (int n = 0; n < 2; n++) {
        for (int group = 0; group < 4; group++) {
          for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < 3; i++) {
              for (int j = 0; j < 2; j++) {
                int row = 2 * i + groupOffsets[group][0];
                int col = 2 * j + groupOffsets[group][1];
                double expected = x[((n * c + ch) * 6 + row) * 4 + col];
                int k = ((n * 4 * c + group * c + ch) * 3 + i) * 2 + j;
                if (g[k] != expected) {
                  fail(
                      "spaceToDepth(2): G"
                          + (group + 1)
                          + " channel "
                          + ch
                          + " at ("
                          + i
                          + ", "
                          + j
                          + ") should be x"
                          + Arrays.toString(new int[] {n, ch, row, col})
                          + " = "
                          + expected
                          + ", was "
                          + g[k]
                          + where());
                }
              }
            }
          }
        }
      }
      backend.depthToSpace(groups, 2, back);
      expectExact("depthToSpace(2) after spaceToDepth(2)", x, back);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DType.class)
  public void copyMatchesSource(DType dtype) {
    Shape shape = Shape.nchw(2, 3, 4, 5);
    double[] x = HostData.of(random, size(shape), dtype);
    try (Tensor src = upload("src", shape, dtype, x);
        Tensor dst = poisoned("dst", shape, dtype)) {
      backend.copy(src, dst);
      expectExact("copy", x, dst);
      expectExact("copy (source untouched)", x, src);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DType.class)
  public void fillSetsEveryElement(DType dtype) {
    double[] values =
        switch (dtype) {
          case FLOAT32 -> new double[] {0, -1.5, 0.1, Float.MAX_VALUE, Double.NEGATIVE_INFINITY};
          case UINT8 -> new double[] {0, 7, 255};
          case INT32 ->
              new double[] {
                0, -123456, 16_777_217, Integer.MIN_VALUE, Integer.MAX_VALUE
              }; // 2^24+1: not a float
        };
    Shape shape = Shape.nchw(2, 3, 4, 5);
    for (double value : values) {
      try (Tensor t = poisoned("t", shape, dtype)) {
        backend.fill(t, value);
        double[] expected = new double[size(shape)];
        // "converted to the dtype": a float32 fill holds the value rounded to float.
        Arrays.fill(expected, dtype == DType.FLOAT32 ? (float) value : value);
        expectExact("fill(" + value + ")", expected, t);
      }
    }
  }

  // ================================================================ likelihood and sampling

  /** A likelihood case: levels L and colour channels C. */
  public record CategoricalCase(int levels, int channels) {
    @Override
    public String toString() {
      return "L = " + levels + ", C = " + channels;
    }
  }

  public static Stream<CategoricalCase> categoricalCases() {
    return Stream.of(
        new CategoricalCase(2, 1),
        new CategoricalCase(2, 3),
        new CategoricalCase(256, 1),
        new CategoricalCase(256, 3));
  }

  private static final int SUBPIXEL_H = 3;
  private static final int SUBPIXEL_W = 2;
  private static final int SUBPIXEL_HW = SUBPIXEL_H * SUBPIXEL_W;

  @ParameterizedTest(name = "{0}")
  @MethodSource("categoricalCases")
  public void softmaxCrossEntropyMatchesOracle(CategoricalCase c) {
    int n = 2;
    Shape logitShape = Shape.nchw(n, c.channels() * c.levels(), SUBPIXEL_H, SUBPIXEL_W);
    Shape subpixels = Shape.nchw(n, c.channels(), SUBPIXEL_H, SUBPIXEL_W);
    double[] logits = HostData.uniform(random, size(logitShape), -4, 4);
    double[] targets = HostData.targets(random, size(subpixels), c.levels());
    try (Tensor lt = upload("logits", logitShape, logits);
        Tensor tt = upload("targets", subpixels, DType.UINT8, targets);
        Tensor nll = poisoned("nll", subpixels)) {
      backend.softmaxCrossEntropy(lt, tt, nll);
      expectClose(
          "softmaxCrossEntropy",
          tolerances().softmax(),
          F64.softmaxCrossEntropy(logits, targets, n, c.channels(), c.levels(), SUBPIXEL_HW),
          nll);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("categoricalCases")
  public void softmaxCrossEntropyBackwardMatchesOracle(CategoricalCase c) {
    int n = 2;
    Shape logitShape = Shape.nchw(n, c.channels() * c.levels(), SUBPIXEL_H, SUBPIXEL_W);
    Shape subpixels = Shape.nchw(n, c.channels(), SUBPIXEL_H, SUBPIXEL_W);
    double[] logits = HostData.uniform(random, size(logitShape), -4, 4);
    double[] targets = HostData.targets(random, size(subpixels), c.levels());
    double[] dnll = HostData.uniform(random, size(subpixels), -1, 1);
    try (Tensor lt = upload("logits", logitShape, logits);
        Tensor tt = upload("targets", subpixels, DType.UINT8, targets);
        Tensor dt = upload("dnll", subpixels, dnll);
        Tensor dlogits = poisoned("dlogits", logitShape)) {
      backend.softmaxCrossEntropyBackward(lt, tt, dt, dlogits);
      expectClose(
          "softmaxCrossEntropyBackward",
          tolerances().softmax(),
          F64.softmaxCrossEntropyBackward(
              logits, targets, dnll, n, c.channels(), c.levels(), SUBPIXEL_HW),
          dlogits);
    }
  }

  /**
   * Logits far from 0 (±300, and one sub-pixel with a logit 150 above the rest), where exp without
   * the max subtracted overflows or underflows float32. The bound is widened by the rounding of the
   * logits themselves (rtol·max|z|), which any float32 formula of {@code logsumexp(z) - z[t]} pays.
   */
  @Test
  public void softmaxCrossEntropyIsStableForLargeLogits() {
    int levels = 256;
    Shape logitShape = Shape.nchw(2, levels, SUBPIXEL_H, SUBPIXEL_W);
    Shape subpixels = Shape.nchw(2, 1, SUBPIXEL_H, SUBPIXEL_W);
    double[] logits = HostData.uniform(random, size(logitShape), -4, 4);
    int half = logits.length / 2;
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) (logits[i] + (i < half ? 300 : -300));
    }
    logits[(7 * SUBPIXEL_HW) + 1] =
        (float) (logits[(7 * SUBPIXEL_HW) + 1] + 150); // sample 0, level 7, pixel 1
    double[] targets = HostData.targets(random, size(subpixels), levels);
    targets[1] = 7; // that pixel's target is its dominant level: nll ≈ 0
    double[] dnll = HostData.uniform(random, size(subpixels), -1, 1);
    double maxAbs = 0;
    for (double z : logits) {
      maxAbs = Math.max(maxAbs, Math.abs(z));
    }
    Tolerance base = tolerances().softmax();
    Tolerance tolerance = new Tolerance(base.atol() + base.rtol() * maxAbs, base.rtol());
    try (Tensor lt = upload("logits", logitShape, logits);
        Tensor tt = upload("targets", subpixels, DType.UINT8, targets);
        Tensor dt = upload("dnll", subpixels, dnll);
        Tensor nll = poisoned("nll", subpixels);
        Tensor dlogits = poisoned("dlogits", logitShape)) {
      backend.softmaxCrossEntropy(lt, tt, nll);
      expectClose(
          "softmaxCrossEntropy (large logits)",
          tolerance,
          F64.softmaxCrossEntropy(logits, targets, 2, 1, levels, SUBPIXEL_HW),
          nll);
      backend.softmaxCrossEntropyBackward(lt, tt, dt, dlogits);
      expectClose(
          "softmaxCrossEntropyBackward (large logits)",
          tolerance,
          F64.softmaxCrossEntropyBackward(logits, targets, dnll, 2, 1, levels, SUBPIXEL_HW),
          dlogits);
    }
  }

  @ParameterizedTest(name = "L = {0}")
  @ValueSource(ints = {2, 16, 256})
  public void softmaxCrossEntropyBackwardMatchesFiniteDifferences(int levels) {
    int channels = levels == 256 ? 1 : 3;
    Shape logitShape = Shape.nchw(1, channels * levels, 2, 2);
    Shape subpixels = Shape.nchw(1, channels, 2, 2);
    double[] logits = HostData.uniform(random, size(logitShape), -4, 4);
    double[] targets = HostData.targets(random, size(subpixels), levels);
    double[] r = HostData.uniform(random, size(subpixels), -1, 1);
    double[] fd =
        FiniteDifferences.gradient(
            logits, p -> F64.dot(r, F64.softmaxCrossEntropy(p, targets, 1, channels, levels, 4)));
    try (Tensor lt = upload("logits", logitShape, logits);
        Tensor tt = upload("targets", subpixels, DType.UINT8, targets);
        Tensor rt = upload("r", subpixels, r);
        Tensor dlogits = poisoned("dlogits", logitShape)) {
      backend.softmaxCrossEntropyBackward(lt, tt, rt, dlogits);
      expectClose(
          "softmaxCrossEntropyBackward gradient", tolerances().finiteDifference(), fd, dlogits);
    }
  }

  /**
   * How close, in float64, a uniform may lie to a CDF boundary for a backend to pick either side.
   */
  public static final double SAMPLING_BOUNDARY_SLACK = 1e-5;

  @ParameterizedTest(name = "{0}")
  @MethodSource("categoricalCases")
  public void sampleCategoricalMatchesInverseCdf(CategoricalCase c) {
    int n = 2;
    Shape logitShape = Shape.nchw(n, c.channels() * c.levels(), SUBPIXEL_H, SUBPIXEL_W);
    Shape subpixels = Shape.nchw(n, c.channels(), SUBPIXEL_H, SUBPIXEL_W);
    double[] logits = HostData.uniform(random, size(logitShape), -3, 3);
    double[] uniforms = HostData.unitUniforms(random, size(subpixels));
    double[] cdf = F64.categoricalCdf(logits, n, c.channels(), c.levels(), SUBPIXEL_HW);
    expectSamples(c.levels(), subpixels, logitShape, logits, uniforms, cdf);
  }

  /**
   * Fixed draws: equal odds split at 1/2, u = 0 and the largest float below 1, a dominant level.
   */
  @Test
  public void sampleCategoricalHandlesTheEndsOfTheUnitInterval() {
    float belowOne = Math.nextDown(1f);
    // L = 2, equal logits: the boundary is at exactly 1/2.
    double[] evenLogits = new double[2 * 6];
    double[] evenU = {0, 0.25, 0.49f, 0.51f, 0.75, belowOne};
    Shape evenShape = Shape.nchw(1, 2, 1, 6);
    Shape evenOut = Shape.nchw(1, 1, 1, 6);
    try (Tensor lt = upload("logits", evenShape, evenLogits);
        Tensor ut = upload("uniforms", evenOut, evenU);
        Tensor out = poisoned("out", evenOut, DType.UINT8)) {
      backend.sampleCategorical(lt, ut, out);
      expectExact("sampleCategorical (L = 2, equal odds)", new double[] {0, 0, 0, 1, 1, 1}, out);
    }
    // L = 256, level 200 dominant by 40 nats: every u away from the ends picks it.
    double[] peaked = new double[256 * 4];
    for (int p = 0; p < 4; p++) {
      peaked[200 * 4 + p] = 40;
    }
    double[] peakedU = {0.3, 0.5, 0.9, belowOne};
    Shape peakedShape = Shape.nchw(1, 256, 2, 2);
    Shape peakedOut = Shape.nchw(1, 1, 2, 2);
    try (Tensor lt = upload("logits", peakedShape, peaked);
        Tensor ut = upload("uniforms", peakedOut, peakedU);
        Tensor out = poisoned("out", peakedOut, DType.UINT8)) {
      backend.sampleCategorical(lt, ut, out);
      expectExact(
          "sampleCategorical (L = 256, one dominant level)",
          new double[] {200, 200, 200, 200},
          out);
    }
  }

  /**
   * Runs sampleCategorical twice, into outputs poisoned with two different values (so no unwritten
   * element can pass, whatever level it should hold), and checks both against the inverse CDF.
   */
  private void expectSamples(
      int levels,
      Shape subpixels,
      Shape logitShape,
      double[] logits,
      double[] uniforms,
      double[] cdf) {
    double[] expected = F64.sampleCategorical(cdf, uniforms, levels);
    try (Tensor lt = upload("logits", logitShape, logits);
        Tensor ut = upload("uniforms", subpixels, uniforms);
        Tensor first = poisoned("out", subpixels, DType.UINT8, HostData.POISON_UINT8);
        Tensor second = poisoned("out.again", subpixels, DType.UINT8, 0x54)) {
      backend.sampleCategorical(lt, ut, first);
      backend.sampleCategorical(lt, ut, second);
      for (Tensor out : List.of(first, second)) {
        double[] actual = download(out);
        for (int k = 0; k < expected.length; k++) {
          int a = (int) actual[k];
          if (a == expected[k]) {
            continue;
          }
          // A float32 CDF may put u on the other side of a boundary that u nearly touches.
          boolean nearBoundary = false;
          if (a >= 0 && a < levels) {
            double low = a == 0 ? 0 : cdf[k * levels + a - 1];
            double high = cdf[k * levels + a];
            nearBoundary =
                uniforms[k] >= low - SAMPLING_BOUNDARY_SLACK
                    && uniforms[k] < high + SAMPLING_BOUNDARY_SLACK;
          }
          if (!nearBoundary) {
            fail(
                "sampleCategorical: "
                    + out.describe()
                    + " at "
                    + index(subpixels, k)
                    + " expected level "
                    + (int) expected[k]
                    + " (u = "
                    + uniforms[k]
                    + ", its CDF interval ["
                    + (expected[k] == 0 ? 0 : cdf[k * levels + (int) expected[k] - 1])
                    + ", "
                    + cdf[k * levels + (int) expected[k]]
                    + ")) but was "
                    + a
                    + where());
          }
        }
      }
    }
  }

  // ================================================================ dense

  @Test
  public void embeddingLookupMatchesOracle() {
    int v = 7;
    int d = 5;
    int n = 12;
    double[] table = HostData.uniform(random, v * d, -1, 1);
    double[] indices = indicesWithRepeats(n, v);
    try (Tensor tt = upload("table", Shape.of(v, d), table);
        Tensor it = upload("indices", Shape.of(n), DType.INT32, indices);
        Tensor out = poisoned("out", Shape.of(n, d))) {
      backend.embeddingLookup(tt, it, out);
      expectExact("embeddingLookup", F64.embeddingLookup(table, indices, d), out);
    }
  }

  @Test
  public void embeddingBackwardSumsRepeatedIndices() {
    int v = 7;
    int d = 5;
    int n = 12;
    double[] indices = indicesWithRepeats(n, v);
    double[] dout = HostData.uniform(random, n * d, -1, 1);
    try (Tensor it = upload("indices", Shape.of(n), DType.INT32, indices);
        Tensor dt = upload("dout", Shape.of(n, d), dout);
        Tensor dtable = poisoned("dtable", Shape.of(v, d))) {
      backend.embeddingBackward(it, dt, dtable);
      expectClose(
          "embeddingBackward",
          tolerances().reduction().forSumOf(n),
          F64.embeddingBackward(indices, dout, v, d),
          dtable);
    }
  }

  @Test
  public void embeddingBackwardMatchesFiniteDifferences() {
    int v = 6;
    int d = 4;
    int n = 9;
    double[] table = HostData.uniform(random, v * d, -1, 1);
    double[] indices = indicesWithRepeats(n, v);
    double[] r = HostData.uniform(random, n * d, -1, 1);
    double[] fd =
        FiniteDifferences.gradient(table, p -> F64.dot(r, F64.embeddingLookup(p, indices, d)));
    try (Tensor it = upload("indices", Shape.of(n), DType.INT32, indices);
        Tensor rt = upload("r", Shape.of(n, d), r);
        Tensor dtable = poisoned("dtable", Shape.of(v, d))) {
      backend.embeddingBackward(it, rt, dtable);
      expectClose("embeddingBackward gradient", tolerances().finiteDifference(), fd, dtable);
    }
  }

  /**
   * Indices into {@code [0, v-1)}: one row is never named (its gradient must be 0), two are named
   * twice or more.
   */
  private double[] indicesWithRepeats(int n, int v) {
    double[] indices = new double[n];
    for (int i = 0; i < n; i++) {
      indices[i] = random.nextInt(v - 1);
    }
    indices[0] = 0;
    indices[1] = 0;
    indices[n - 1] = v - 2;
    indices[n - 2] = v - 2;
    indices[n - 3] = v - 2;
    return indices;
  }

  /** A matmul case: {@code op(a) [m, k]}, {@code op(b) [k, n]}, and the transposes. */
  public record MatmulCase(int m, int k, int n, boolean transposeA, boolean transposeB) {
    Shape a() {
      return transposeA ? Shape.of(k, m) : Shape.of(m, k);
    }

    Shape b() {
      return transposeB ? Shape.of(n, k) : Shape.of(k, n);
    }

    @Override
    public String toString() {
      return (transposeA ? "aᵀ" : "a")
          + "["
          + m
          + "x"
          + k
          + "] · "
          + (transposeB ? "bᵀ" : "b")
          + "["
          + k
          + "x"
          + n
          + "]";
    }
  }

  public static Stream<MatmulCase> matmulCases() {
    List<MatmulCase> cases = new ArrayList<>();
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        cases.add(new MatmulCase(5, 7, 3, ta, tb));
        cases.add(new MatmulCase(4, 64, 6, ta, tb));
      }
    }
    cases.add(new MatmulCase(1, 1, 1, false, false));
    cases.add(new MatmulCase(1, 9, 1, true, false));
    return cases.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("matmulCases")
  public void matmulMatchesOracle(MatmulCase c) {
    double[] a = HostData.uniform(random, size(c.a()), -1, 1);
    double[] b = HostData.uniform(random, size(c.b()), -1, 1);
    try (Tensor at = upload("a", c.a(), a);
        Tensor bt = upload("b", c.b(), b);
        Tensor out = poisoned("out", Shape.of(c.m(), c.n()))) {
      backend.matmul(at, c.transposeA(), bt, c.transposeB(), out);
      expectClose(
          "matmul " + c,
          tolerances().matmul().forSumOf(c.k()),
          F64.matmul(
              a,
              c.a().dim(0),
              c.a().dim(1),
              c.transposeA(),
              b,
              c.b().dim(0),
              c.b().dim(1),
              c.transposeB()),
          out);
    }
  }

  /**
   * Matmul is its own gradient: for {@code out = op(a)·op(b)} and upstream r, {@code d op(a) =
   * r·op(b)ᵀ} and {@code d op(b) = op(a)ᵀ·r}, computed with the backend's matmul in the transposes
   * each case needs, against finite differences of the oracle.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("matmulCases")
  public void matmulGradientsMatchFiniteDifferences(MatmulCase c) {
    Shape as = c.a();
    Shape bs = c.b();
    boolean ta = c.transposeA();
    boolean tb = c.transposeB();
    double[] a = HostData.uniform(random, size(as), -1, 1);
    double[] b = HostData.uniform(random, size(bs), -1, 1);
    double[] r = HostData.uniform(random, c.m() * c.n(), -1, 1);
    double[] fdA =
        FiniteDifferences.gradient(
            a,
            p -> F64.dot(r, F64.matmul(p, as.dim(0), as.dim(1), ta, b, bs.dim(0), bs.dim(1), tb)));
    double[] fdB =
        FiniteDifferences.gradient(
            b,
            p -> F64.dot(r, F64.matmul(a, as.dim(0), as.dim(1), ta, p, bs.dim(0), bs.dim(1), tb)));
    Tolerance tolerance = tolerances().finiteDifference();
    try (Tensor at = upload("a", as, a);
        Tensor bt = upload("b", bs, b);
        Tensor rt = upload("r", Shape.of(c.m(), c.n()), r);
        Tensor da = poisoned("da", as);
        Tensor db = poisoned("db", bs)) {
      if (!ta) {
        backend.matmul(rt, false, bt, !tb, da); // da = r·op(b)ᵀ
      } else {
        backend.matmul(bt, tb, rt, true, da); // da = (r·op(b)ᵀ)ᵀ = op(b)·rᵀ
      }
      if (!tb) {
        backend.matmul(at, !ta, rt, false, db); // db = op(a)ᵀ·r
      } else {
        backend.matmul(rt, true, at, ta, db); // db = (op(a)ᵀ·r)ᵀ = rᵀ·op(a)
      }
      expectClose("matmul gradient in a, " + c, tolerance, fdA, da);
      expectClose("matmul gradient in b, " + c, tolerance, fdB, db);
    }
  }

  public static Stream<Shape> reductionShapes() {
    return Stream.of(Shape.of(1), Shape.of(7), Shape.nchw(3, 4, 5, 6), Shape.of(10_007));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("reductionShapes")
  public void sumMatchesOracle(Shape shape) {
    double[] x = HostData.uniform(random, size(shape), -1, 1);
    try (Tensor xt = upload("x", shape, x);
        Tensor out = poisoned("out", Shape.of(1))) {
      backend.sum(xt, out);
      expectClose(
          "sum", tolerances().reduction().forSumOf(x.length), new double[] {F64.sum(x)}, out);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("reductionShapes")
  public void sumOfSquaresMatchesOracle(Shape shape) {
    double[] x = HostData.uniform(random, size(shape), -1, 1);
    try (Tensor xt = upload("x", shape, x);
        Tensor out = poisoned("out", Shape.of(1))) {
      backend.sumOfSquares(xt, out);
      expectClose(
          "sumOfSquares",
          tolerances().reduction().forSumOf(x.length),
          new double[] {F64.sumOfSquares(x)},
          out);
    }
  }

  // ================================================================ optimiser

  public static Stream<AdamOp> adamOps() {
    return Stream.of(AdamOp.defaults(), AdamOp.of(1e-2, 0.8, 0.99, 1e-6));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("adamOps")
  public void adamMatchesOracleOverSeveralSteps(AdamOp op) {
    Shape shape = Shape.of(4, 6);
    double[] param = HostData.uniform(random, 24, -1, 1);
    double[] m = new double[24];
    double[] v = new double[24];
    expectAdamSteps(op, 1, 6, shape, param, m, v);
  }

  /** From step 1000 on, with state already built up: bias correction almost 1. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("adamOps")
  public void adamResumesFromALaterStep(AdamOp op) {
    Shape shape = Shape.of(3, 5);
    double[] param = HostData.uniform(random, 15, -1, 1);
    double[] m = HostData.uniform(random, 15, -0.1, 0.1);
    double[] v = HostData.uniform(random, 15, 0, 0.01);
    expectAdamSteps(op, 1000, 2, shape, param, m, v);
  }

  private void expectAdamSteps(
      AdamOp op, long firstStep, int steps, Shape shape, double[] param, double[] m, double[] v) {
    Tolerance tolerance = tolerances().adam();
    try (Tensor pt = upload("param", shape, param);
        Tensor mt = upload("m", shape, m);
        Tensor vt = upload("v", shape, v)) {
      for (long step = firstStep; step < firstStep + steps; step++) {
        double[] grad = HostData.uniform(random, size(shape), -1, 1);
        F64.adamStep(op, step, param, grad, m, v);
        try (Tensor gt = upload("grad", shape, grad)) {
          backend.adamUpdate(op, step, pt, gt, mt, vt);
        }
        String name = "adamUpdate step " + step;
        expectClose(name, tolerance, param, pt);
        // The moments are compared bias-corrected, m/(1-β1^t) and v/(1-β2^t): the O(1) values the
        // update
        // divides, so that one absolute bound means the same for p, m and v (raw v is ~1e-3·g²
        // early on).
        double c1 = 1 - Math.pow(op.beta1(), step);
        double c2 = 1 - Math.pow(op.beta2(), step);
        expectCloseValues(
            name,
            mt.describe() + " / (1-β1^t)",
            shape,
            tolerance,
            F64.scale(m, 1 / c1),
            F64.scale(download(mt), 1 / c1));
        expectCloseValues(
            name,
            vt.describe() + " / (1-β2^t)",
            shape,
            tolerance,
            F64.scale(v, 1 / c2),
            F64.scale(download(vt), 1 / c2));
      }
    }
  }

  // ================================================================ validation

  @Test
  public void conv2dRejectsAWeightOfTheWrongShape() {
    Conv2dOp op = Conv2dOp.of(2, 3, 3);
    try (Tensor x = backend.allocate(Shape.nchw(1, 2, 4, 4), DType.FLOAT32, "x");
        Tensor w = backend.allocate(Shape.of(3, 2, 5, 5), DType.FLOAT32, "w.wrongShape");
        Tensor y = backend.allocate(Shape.nchw(1, 3, 4, 4), DType.FLOAT32, "y")) {
      expectRejected("conv2d", "w.wrongShape", () -> backend.conv2d(op, x, w, null, null, y));
    }
  }

  @Test
  public void conv2dRejectsAnInputOfTheWrongDtype() {
    Conv2dOp op = Conv2dOp.of(2, 3, 3);
    try (Tensor x = backend.allocate(Shape.nchw(1, 2, 4, 4), DType.UINT8, "x.uint8");
        Tensor w = backend.allocate(op.weightShape(), DType.FLOAT32, "w");
        Tensor y = backend.allocate(Shape.nchw(1, 3, 4, 4), DType.FLOAT32, "y")) {
      expectRejected("conv2d", "x.uint8", () -> backend.conv2d(op, x, w, null, null, y));
    }
  }

  /** Validation comes first: a rejected call leaves its output as it was. */
  @Test
  public void conv2dRejectsABadMaskBeforeWritingItsOutput() {
    Conv2dOp op = Conv2dOp.of(2, 3, 3);
    Shape yShape = Shape.nchw(1, 3, 4, 4);
    double[] before = HostData.uniform(random, size(yShape), -1, 1);
    try (Tensor x = upload("x", Shape.nchw(1, 2, 4, 4), HostData.uniform(random, 32, -1, 1));
        Tensor w = upload("w", op.weightShape(), HostData.uniform(random, 54, -1, 1));
        Tensor mask = backend.allocate(Shape.of(3, 2, 1, 3), DType.FLOAT32, "mask.wrongShape");
        Tensor y = upload("y", yShape, before)) {
      expectRejected("conv2d", "mask.wrongShape", () -> backend.conv2d(op, x, w, mask, null, y));
      expectExact("conv2d (rejected call)", before, y);
    }
  }

  @Test
  public void conv2dBackwardFilterRejectsABiasGradientOfTheWrongShape() {
    Conv2dOp op = Conv2dOp.of(2, 3, 3);
    try (Tensor x = backend.allocate(Shape.nchw(1, 2, 4, 4), DType.FLOAT32, "x");
        Tensor dy = backend.allocate(Shape.nchw(1, 3, 4, 4), DType.FLOAT32, "dy");
        Tensor dw = backend.allocate(op.weightShape(), DType.FLOAT32, "dw");
        Tensor dbias = backend.allocate(Shape.of(2), DType.FLOAT32, "dbias.wrongShape")) {
      expectRejected(
          "conv2d",
          "dbias.wrongShape",
          () -> backend.conv2dBackwardFilter(op, x, dy, null, dw, dbias));
    }
  }

  @Test
  public void gateRejectsAnOddChannelCount() {
    try (Tensor pre = backend.allocate(Shape.nchw(1, 5, 2, 2), DType.FLOAT32, "pre.odd");
        Tensor out = backend.allocate(Shape.nchw(1, 2, 2, 2), DType.FLOAT32, "out")) {
      expectRejected("gate", "pre.odd", () -> backend.gate(pre, out));
    }
  }

  @Test
  public void matmulRejectsMismatchedInnerDimensions() {
    try (Tensor a = backend.allocate(Shape.of(3, 4), DType.FLOAT32, "a.k4");
        Tensor b = backend.allocate(Shape.of(5, 2), DType.FLOAT32, "b.k5");
        Tensor out = backend.allocate(Shape.of(3, 2), DType.FLOAT32, "out")) {
      expectRejected("matmul", "a.k4", () -> backend.matmul(a, false, b, false, out));
    }
  }

  @Test
  public void addRejectsATensorOfAnotherBackend() {
    Shape shape = Shape.of(2, 3);
    try (Backend other = createBackend();
        Tensor foreign = other.allocate(shape, DType.FLOAT32, "b.foreign");
        Tensor a = backend.allocate(shape, DType.FLOAT32, "a");
        Tensor out = backend.allocate(shape, DType.FLOAT32, "out")) {
      expectRejected("add", "b.foreign", () -> backend.add(a, foreign, out));
    }
  }

  @Test
  public void reluRejectsAHostMemoryTensor() {
    Shape shape = Shape.of(2, 3);
    try (HostTensor hostOnly = host.allocate(shape, DType.FLOAT32, "y.hostMemory");
        Tensor x = backend.allocate(shape, DType.FLOAT32, "x")) {
      expectRejected("relu", "y.hostMemory", () -> backend.relu(x, hostOnly));
    }
  }

  @Test
  public void copyRejectsAClosedTensor() {
    Shape shape = Shape.of(2, 3);
    Tensor closed = backend.allocate(shape, DType.FLOAT32, "src.closed");
    closed.close();
    try (Tensor dst = backend.allocate(shape, DType.FLOAT32, "dst")) {
      expectRejected("copy", "src.closed", () -> backend.copy(closed, dst));
    }
  }

  @Test
  public void softmaxCrossEntropyRejectsFloatTargets() {
    try (Tensor logits = backend.allocate(Shape.nchw(1, 4, 2, 2), DType.FLOAT32, "logits");
        Tensor targets = backend.allocate(Shape.nchw(1, 1, 2, 2), DType.FLOAT32, "targets.float");
        Tensor nll = backend.allocate(Shape.nchw(1, 1, 2, 2), DType.FLOAT32, "nll")) {
      expectRejected(
          "softmaxCrossEntropy",
          "targets.float",
          () -> backend.softmaxCrossEntropy(logits, targets, nll));
    }
  }

  @Test
  public void embeddingLookupRejectsFloatIndices() {
    try (Tensor table = backend.allocate(Shape.of(4, 3), DType.FLOAT32, "table");
        Tensor indices = backend.allocate(Shape.of(5), DType.FLOAT32, "indices.float");
        Tensor out = backend.allocate(Shape.of(5, 3), DType.FLOAT32, "out")) {
      expectRejected(
          "embeddingLookup", "indices.float", () -> backend.embeddingLookup(table, indices, out));
    }
  }

  @Test
  public void spaceToDepthRejectsASizeThatIsNotAMultipleOfTheBlock() {
    try (Tensor x = backend.allocate(Shape.nchw(1, 1, 3, 4), DType.UINT8, "x.oddHeight");
        Tensor out = backend.allocate(Shape.nchw(1, 4, 1, 2), DType.UINT8, "out")) {
      expectRejected("spaceToDepth", "x.oddHeight", () -> backend.spaceToDepth(x, 2, out));
    }
  }

  @Test
  public void concatChannelsRejectsMixedDtypes() {
    try (Tensor a = backend.allocate(Shape.nchw(1, 1, 2, 2), DType.FLOAT32, "part.float");
        Tensor b = backend.allocate(Shape.nchw(1, 1, 2, 2), DType.UINT8, "part.uint8");
        Tensor out = backend.allocate(Shape.nchw(1, 2, 2, 2), DType.FLOAT32, "out")) {
      expectRejected(
          "concatChannels", "part.uint8", () -> backend.concatChannels(List.of(a, b), out));
    }
  }

  @Test
  public void sumRejectsAnOutputOfMoreThanOneElement() {
    try (Tensor x = backend.allocate(Shape.of(4), DType.FLOAT32, "x");
        Tensor out = backend.allocate(Shape.of(2), DType.FLOAT32, "out.two")) {
      expectRejected("sum", "out.two", () -> backend.sum(x, out));
    }
  }

  @Test
  public void fillRejectsAValueTheDtypeCannotHold() {
    try (Tensor bytes = backend.allocate(Shape.of(4), DType.UINT8, "t.uint8");
        Tensor ints = backend.allocate(Shape.of(4), DType.INT32, "t.int32")) {
      expectRejected("fill", "t.uint8", () -> backend.fill(bytes, 256));
      expectRejected("fill", "t.uint8", () -> backend.fill(bytes, 1.5));
      expectRejected("fill", "t.int32", () -> backend.fill(ints, 3e9));
    }
  }

  @Test
  public void copyFromHostRejectsAShapeMismatch() {
    try (HostTensor src = host.allocate(Shape.of(2, 3), DType.FLOAT32, "src.2x3");
        Tensor dst = backend.allocate(Shape.of(3, 2), DType.FLOAT32, "dst.3x2")) {
      expectRejected("copyFromHost", "dst.3x2", () -> backend.copyFromHost(src, dst));
    }
  }

  @Test
  public void copyToHostRejectsAClosedHostTensor() {
    HostTensor closed = host.allocate(Shape.of(2, 3), DType.INT32, "dst.closed");
    closed.close();
    try (Tensor src = backend.allocate(Shape.of(2, 3), DType.INT32, "src")) {
      expectRejected("copyToHost", "dst.closed", () -> backend.copyToHost(src, closed));
    }
  }

  // ================================================================ memory and transfers

  @Test
  public void allocateAndCloseKeepTheBooks() {
    long before = backend.outstandingBytes();
    assertEquals(0, before, "a new backend holds no bytes" + where());
    Tensor f = backend.allocate(Shape.nchw(3, 5, 7, 1), DType.FLOAT32, "books.float");
    long afterFirst = backend.outstandingBytes();
    assertTrue(
        afterFirst >= before + 420,
        "allocating 420 bytes raised the books by only " + (afterFirst - before) + where());
    Tensor b = backend.allocate(Shape.of(13), DType.UINT8, "books.uint8");
    Tensor i = backend.allocate(Shape.of(2, 2), DType.INT32, "books.int32");
    long afterAll = backend.outstandingBytes();
    assertTrue(
        afterAll >= afterFirst + 13 + 16, "books did not grow with two more tensors" + where());
    for (Tensor t : List.of(f, b, i)) {
      assertSame(backend, t.owner(), t.describe() + ": owner" + where());
      assertFalse(t.isClosed(), t.describe() + " is closed right after allocate" + where());
    }
    assertEquals("books.float", f.label(), "allocate: label" + where());
    assertEquals(Shape.nchw(3, 5, 7, 1), f.shape(), "allocate: shape" + where());
    assertEquals(DType.UINT8, b.dtype(), "allocate: dtype" + where());
    assertEquals(16, i.byteSize(), "allocate: byteSize" + where());
    i.close();
    assertTrue(i.isClosed(), "a closed tensor reports itself open" + where());
    long afterOne = backend.outstandingBytes();
    assertTrue(
        afterOne <= afterAll - 16,
        "closing 16 bytes returned only " + (afterAll - afterOne) + where());
    b.close();
    assertEquals(
        afterFirst,
        backend.outstandingBytes(),
        "closing the last two tensors returned a different amount" + where());
    f.close();
    f.close(); // twice is harmless
    assertEquals(
        before,
        backend.outstandingBytes(),
        "closing every tensor did not bring the books back" + where());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(DType.class)
  public void copyFromHostAndBackIsBitExact(DType dtype) {
    Shape shape = Shape.of(3, 100);
    int n = size(shape);
    double[] values = HostData.of(random, n, dtype);
    switch (dtype) {
      case FLOAT32 -> {
        double[] special = {
          Float.NaN,
          Float.POSITIVE_INFINITY,
          Float.NEGATIVE_INFINITY,
          -0.0,
          Float.MIN_VALUE,
          1e-40,
          Float.MAX_VALUE,
          -Float.MIN_NORMAL
        };
        System.arraycopy(special, 0, values, 0, special.length);
      }
      case UINT8 -> {
        for (int k = 0; k < 256; k++) {
          values[k] = k;
        }
      }
      case INT32 -> {
        values[0] = Integer.MIN_VALUE;
        values[1] = Integer.MAX_VALUE;
        values[2] = -1;
      }
    }
    try (HostTensor src = HostData.toHost(host, shape, dtype, values, "src");
        HostTensor complement = complementOf(src);
        HostTensor dst = complementOf(src);
        Tensor t = backend.allocate(shape, dtype, "roundTrip")) {
      // Every byte must change on each leg: the tensor first holds the complement, and so does dst.
      backend.copyFromHost(complement, t);
      backend.copyFromHost(src, t);
      backend.copyToHost(t, dst);
      assertArrayEquals(
          src.toByteArray(), dst.toByteArray(), dtype + " round trip is not bit-exact" + where());
    }
  }

  @Test
  public void fromHostAndToHostCopy() {
    Shape shape = Shape.nchw(2, 3, 2, 2);
    double[] values = HostData.uniform(random, size(shape), -1, 1);
    try (HostTensor src = HostData.toHost(host, shape, DType.FLOAT32, values, "src");
        Tensor t = backend.fromHost(src, "fromHost.tensor")) {
      assertEquals("fromHost.tensor", t.label(), "fromHost: label" + where());
      assertEquals(shape, t.shape(), "fromHost: shape" + where());
      assertEquals(DType.FLOAT32, t.dtype(), "fromHost: dtype" + where());
      assertSame(backend, t.owner(), "fromHost: the tensor belongs to the backend" + where());
      src.setFloat(0, 42f); // a copy: later host writes do not reach the tensor
      long hostBefore = host.outstandingBytes();
      try (HostTensor back = backend.toHost(t, host)) {
        assertSame(
            host, back.owner(), "toHost: the host tensor belongs to the memory given" + where());
        assertEquals(shape, back.shape(), "toHost: shape" + where());
        assertEquals(DType.FLOAT32, back.dtype(), "toHost: dtype" + where());
        assertTrue(
            host.outstandingBytes() >= hostBefore + t.byteSize(),
            "toHost allocated from the memory given" + where());
        expectCloseValues(
            "toHost(fromHost)",
            back.describe(),
            shape,
            new Tolerance(0, 0),
            values,
            HostData.values(back));
      }
    }
  }

  /**
   * A backend that computes in host memory may expose it; the view and the tensor are one memory.
   */
  @Test
  public void hostViewWhenPresentIsTheTensorsMemory() {
    Shape shape = Shape.of(4, 5);
    double[] values = HostData.uniform(random, 20, -1, 1);
    try (Tensor t = upload("viewed", shape, values)) {
      Optional<HostTensor> view = backend.hostView(t);
      if (view.isEmpty()) {
        return; // a device backend: nothing to check
      }
      HostTensor v = view.get();
      assertEquals(shape, v.shape(), "hostView: shape" + where());
      assertEquals(DType.FLOAT32, v.dtype(), "hostView: dtype" + where());
      expectCloseValues(
          "hostView", v.describe(), shape, new Tolerance(0, 0), values, HostData.values(v));
      v.setFloat(3, 7.5f);
      assertEquals(
          7.5, download(t)[3], 0, "a write through hostView is not seen by copyToHost" + where());
    }
  }

  /**
   * Ops issued on one backend run in issue order: a chain of dependent in-place ops, read once at
   * the end.
   */
  @Test
  public void opsRunInIssueOrder() {
    Shape shape = Shape.of(1000);
    double[] half = new double[1000];
    Arrays.fill(half, 0.5);
    double[] ones = new double[1000];
    Arrays.fill(ones, 1);
    try (Tensor x = upload("x", shape, ones);
        Tensor h = upload("half", shape, half)) {
      for (int k = 0; k < 20; k++) {
        backend.scale(x, 2, x);
        backend.add(x, h, x);
      }
      backend.synchronize();
      // x_k = 2·x_{k-1} + 1/2 from 1: 1.5·2^20 - 0.5, exact in float32.
      double[] expected = new double[1000];
      Arrays.fill(expected, 1.5 * (1 << 20) - 0.5);
      expectExact("scale/add chain", expected, x);
    }
  }

  @Test
  public void workspaceViewsAtAlignedOffsetsHoldTheirOwnData() {
    long before = backend.outstandingBytes();
    long bytes = 4096;
    try (Workspace ws = backend.workspace(bytes, "conformance.workspace")) {
      assertTrue(ws.byteSize() >= bytes, "workspace smaller than asked" + where());
      long withWorkspace = backend.outstandingBytes();
      assertTrue(withWorkspace >= before + bytes, "a workspace's bytes are outstanding" + where());
      Shape fs = Shape.nchw(2, 3, 4, 5); // 480 bytes at 0
      Shape bs = Shape.of(3, 7); // 21 bytes at 512
      Shape is = Shape.of(5, 3); // 60 bytes at 576
      Shape ts = Shape.of(10); // 40 bytes at the last aligned slot
      long tail = bytes - Workspace.ALIGNMENT;
      double[] f = HostData.of(random, size(fs), DType.FLOAT32);
      double[] b = HostData.of(random, size(bs), DType.UINT8);
      double[] i = HostData.of(random, size(is), DType.INT32);
      double[] t = HostData.of(random, size(ts), DType.FLOAT32);
      try (Tensor fv = ws.view(0, fs, DType.FLOAT32, "view.float");
          Tensor bv = ws.view(512, bs, DType.UINT8, "view.uint8");
          Tensor iv = ws.view(576, is, DType.INT32, "view.int32");
          Tensor tv = ws.view(tail, ts, DType.FLOAT32, "view.tail")) {
        assertEquals(withWorkspace, backend.outstandingBytes(), "views own no memory" + where());
        assertSame(backend, fv.owner(), "a workspace view belongs to its backend" + where());
        assertEquals("view.uint8", bv.label(), "view: label" + where());
        copyIn(fv, f);
        copyIn(bv, b);
        copyIn(iv, i);
        copyIn(tv, t);
        expectExact("workspace view", f, fv);
        expectExact("workspace view", b, bv);
        expectExact("workspace view", i, iv);
        expectExact("workspace view", t, tv);
      }
      assertEquals(
          withWorkspace, backend.outstandingBytes(), "closing views frees nothing" + where());
    }
    assertEquals(
        before, backend.outstandingBytes(), "closing the workspace returned its bytes" + where());
  }

  /**
   * Two views over the same bytes are one memory: how a plan's arena reuses a dead activation's
   * slot.
   */
  @Test
  public void workspaceViewsOverTheSameBytesAlias() {
    Shape shape = Shape.of(4, 8);
    double[] first = HostData.uniform(random, 32, -1, 1);
    double[] second = HostData.uniform(random, 32, -1, 1);
    try (Workspace ws = backend.workspace(1024, "conformance.arena");
        Tensor a = ws.view(128, shape, DType.FLOAT32, "slot.a");
        Tensor b = ws.view(128, shape, DType.FLOAT32, "slot.b")) {
      copyIn(a, first);
      expectExact("view b over a's bytes", first, b);
      copyIn(b, second);
      expectExact("view a over b's bytes", second, a);
    }
  }

  @Test
  public void opsRunOnWorkspaceViews() {
    Shape shape = Shape.of(3, 3);
    double[] a = HostData.uniform(random, 9, -1, 1);
    double[] b = HostData.uniform(random, 9, -1, 1);
    try (Workspace ws = backend.workspace(3 * 64, "conformance.ops");
        Tensor av = ws.view(0, shape, DType.FLOAT32, "a");
        Tensor bv = ws.view(64, shape, DType.FLOAT32, "b");
        Tensor out = ws.view(128, shape, DType.FLOAT32, "out")) {
      copyIn(av, a);
      copyIn(bv, b);
      copyIn(out, poison(9));
      backend.add(av, bv, out);
      expectClose("add on views", tolerances().elementwise(), F64.add(a, b), out);
      backend.matmul(av, false, bv, true, out);
      expectClose(
          "matmul on views",
          tolerances().matmul().forSumOf(3),
          F64.matmul(a, 3, 3, false, b, 3, 3, true),
          out);
    }
  }

  @Test
  public void workspaceRejectsAMisalignedOrOversizedView() {
    try (Workspace ws = backend.workspace(256, "conformance.small")) {
      assertThrows(
          IllegalArgumentException.class,
          () -> ws.view(Workspace.ALIGNMENT / 2, Shape.of(4), DType.FLOAT32, "misaligned").close(),
          "a view at an offset that is not a multiple of " + Workspace.ALIGNMENT + where());
      assertThrows(
          IllegalArgumentException.class,
          () -> ws.view(192, Shape.of(32), DType.FLOAT32, "pastTheEnd").close(),
          "a view past the end of the workspace" + where());
    }
  }

  @Test
  public void closingABackendWithAnOpenTensorNamesIt() {
    Backend other = createBackend();
    Tensor closed = other.allocate(Shape.of(2), DType.FLOAT32, "conformance.closedInTime");
    closed.close();
    other.allocate(Shape.of(3, 5), DType.INT32, "conformance.leakedTensor");
    MemoryLeakException e =
        assertThrows(
            MemoryLeakException.class,
            other::close,
            "closing a backend with an open tensor" + where());
    assertTrue(
        e.getMessage().contains("conformance.leakedTensor"),
        "leak report does not name the tensor: " + e.getMessage() + where());
    assertFalse(
        e.getMessage().contains("conformance.closedInTime"),
        "leak report names a closed tensor: " + e.getMessage() + where());
    assertEquals(
        0, other.outstandingBytes(), "the leaked memory is released all the same" + where());
  }

  @Test
  public void closingABackendWithAnOpenWorkspaceNamesIt() {
    Backend other = createBackend();
    other.workspace(1024, "conformance.leakedWorkspace");
    MemoryLeakException e =
        assertThrows(
            MemoryLeakException.class,
            other::close,
            "closing a backend with an open workspace" + where());
    assertTrue(
        e.getMessage().contains("conformance.leakedWorkspace"),
        "leak report does not name the workspace: " + e.getMessage() + where());
    assertEquals(
        0, other.outstandingBytes(), "the leaked memory is released all the same" + where());
  }

  // ================================================================ helpers

  /** A new float32 tensor of this backend holding {@code values}. */
  protected final Tensor upload(String label, Shape shape, double[] values) {
    return upload(label, shape, DType.FLOAT32, values);
  }

  /**
   * A new tensor of this backend holding {@code values} converted to {@code dtype}, through {@link
   * Backend#copyFromHost}.
   */
  protected final Tensor upload(String label, Shape shape, DType dtype, double[] values) {
    Tensor t = backend.allocate(shape, dtype, label);
    try {
      copyIn(t, values);
      return t;
    } catch (RuntimeException | Error e) {
      t.close();
      throw e;
    }
  }

  /** Writes {@code values} into the backend tensor {@code t} through host staging. */
  protected final void copyIn(Tensor t, double[] values) {
    try (HostTensor h =
        HostData.toHost(host, t.shape(), t.dtype(), values, t.label() + "@staging")) {
      backend.copyFromHost(h, t);
    }
  }

  /**
   * A new tensor whose every element is poison ({@link HostData#POISON_FLOAT32} NaN, {@link
   * HostData#POISON_UINT8}, {@link HostData#POISON_INT32}): the output of an op under test, so that
   * an element the op does not write fails the comparison with the oracle.
   */
  protected final Tensor poisoned(String label, Shape shape, DType dtype) {
    return poisoned(label, shape, dtype, HostData.poison(dtype));
  }

  /** A float32 {@link #poisoned(String, Shape, DType)} tensor. */
  protected final Tensor poisoned(String label, Shape shape) {
    return poisoned(label, shape, DType.FLOAT32);
  }

  /**
   * A tensor filled with {@code poison}, for outputs whose correct value could be the usual poison.
   */
  protected final Tensor poisoned(String label, Shape shape, DType dtype, double poison) {
    double[] values = new double[size(shape)];
    Arrays.fill(values, poison);
    return upload(label, shape, dtype, values);
  }

  private static double[] poison(int n) {
    double[] values = new double[n];
    Arrays.fill(values, HostData.POISON_FLOAT32);
    return values;
  }

  /** A backend tensor's contents, through {@link Backend#copyToHost}. */
  protected final double[] download(Tensor t) {
    try (HostTensor h = host.allocate(t.shape(), t.dtype(), t.label() + "@host")) {
      backend.copyToHost(t, h);
      return HostData.values(h);
    }
  }

  /** Asserts that {@code actual} agrees with the oracle's {@code expected} element by element. */
  protected final void expectClose(
      String op, Tolerance tolerance, double[] expected, Tensor actual) {
    expectCloseValues(op, actual.describe(), actual.shape(), tolerance, expected, download(actual));
  }

  /**
   * Asserts that {@code actual} equals {@code expected} exactly: for copies, layouts and integers.
   */
  protected final void expectExact(String op, double[] expected, Tensor actual) {
    expectCloseValues(
        op, actual.describe(), actual.shape(), new Tolerance(0, 0), expected, download(actual));
  }

  /**
   * The element-wise comparison behind every check: reports the op, the seed, the first bad
   * element's index, expected and actual values, and how many elements are off.
   */
  protected final void expectCloseValues(
      String op,
      String what,
      Shape shape,
      Tolerance tolerance,
      double[] expected,
      double[] actual) {
    assertEquals(expected.length, actual.length, op + ": " + what + " element count" + where());
    int bad = 0;
    int first = -1;
    int worst = -1;
    double worstDiff = -1;
    for (int i = 0; i < expected.length; i++) {
      if (!tolerance.accepts(expected[i], actual[i])) {
        bad++;
        if (first < 0) {
          first = i;
        }
        double diff = Math.abs(actual[i] - expected[i]);
        if (Double.isNaN(diff) || diff > worstDiff) {
          worst = i;
          worstDiff = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : diff;
        }
      }
    }
    if (bad > 0) {
      fail(
          op
              + ": "
              + what
              + " differs at "
              + bad
              + " of "
              + expected.length
              + " elements; first at "
              + index(shape, first)
              + ": expected "
              + expected[first]
              + ", actual "
              + actual[first]
              + (Double.isNaN(actual[first]) && !Double.isNaN(expected[first])
                  ? " (poison: never written?)"
                  : "")
              + ", |diff| "
              + Math.abs(actual[first] - expected[first])
              + " > "
              + tolerance.bound(expected[first])
              + " ("
              + tolerance
              + "); worst at "
              + index(shape, worst)
              + ": expected "
              + expected[worst]
              + ", actual "
              + actual[worst]
              + where());
    }
  }

  /**
   * Asserts that {@code call} throws a {@link ShapeMismatchException} whose message names the op
   * and the offending tensor's label, as the SPI promises for every op.
   */
  protected final void expectRejected(String op, String label, Executable call) {
    ShapeMismatchException e =
        assertThrows(ShapeMismatchException.class, call, op + " must reject " + label + where());
    String message = String.valueOf(e.getMessage());
    assertTrue(
        message.contains(op),
        "the message does not name the op " + op + ": \"" + message + "\"" + where());
    assertTrue(
        message.contains(label),
        "the message does not name the tensor " + label + ": \"" + message + "\"" + where());
  }

  /** The flat index {@code i} of {@code shape} as {@code [n, c, h, w]}-style coordinates. */
  protected static String index(Shape shape, int i) {
    int[] dims = shape.toArray();
    int[] at = new int[dims.length];
    int rest = i;
    for (int d = dims.length - 1; d >= 0; d--) {
      at[d] = rest % dims[d];
      rest /= dims[d];
    }
    return Arrays.toString(at) + " (flat " + i + ")";
  }

  /** The trailer of every failure message: test, backend, seed and how to replay it. */
  protected final String where() {
    return " [test "
        + testName
        + ", backend "
        + (backend == null ? "?" : backend.name())
        + ", seed "
        + seed
        + "; replay with -D"
        + SEED_PROPERTY
        + "="
        + seed
        + "]";
  }

  protected static int size(Shape shape) {
    return Math.toIntExact(shape.elements());
  }

  private HostTensor complementOf(HostTensor src) {
    HostTensor c = host.allocate(src.shape(), src.dtype(), src.label() + ".complement");
    byte[] bytes = src.toByteArray();
    for (int k = 0; k < bytes.length; k++) {
      bytes[k] = (byte) ~bytes[k];
    }
    MemorySegment.copy(bytes, 0, c.segment(), ValueLayout.JAVA_BYTE, 0, bytes.length);
    return c;
  }

  /** Closes a list of tensors, last first: for ops that take a list (concat, split). */
  protected static final class TensorList implements AutoCloseable {
    private final List<Tensor> tensors = new ArrayList<>();

    public Tensor add(Tensor t) {
      tensors.add(t);
      return t;
    }

    public List<Tensor> tensors() {
      return List.copyOf(tensors);
    }

    @Override
    public void close() {
      for (int k = tensors.size() - 1; k >= 0; k--) {
        tensors.get(k).close();
      }
    }
  }
}
