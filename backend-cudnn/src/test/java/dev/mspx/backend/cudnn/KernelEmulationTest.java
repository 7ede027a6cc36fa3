package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mspx.api.AdamOp;
import dev.mspx.api.DType;
import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;
import dev.mspx.api.Shape;
import dev.mspx.backend.cpu.CpuReferenceBackend;
import dev.mspx.testing.HostData;
import dev.mspx.testing.Tolerances;
import dev.mspx.testing.Tolerances.Tolerance;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The CUDA kernels without a GPU: {@code mspx_kernels.cu} compiled for the CPU with a small CUDA
 * emulation ({@code src/test/cuda}), launched through the very {@link KernelOps} methods and argument
 * packing that {@link CudnnBackend} uses, on host memory standing in for device memory, and compared
 * with {@link CpuReferenceBackend} under the conformance suite's tolerances. This checks index
 * arithmetic, grids, argument order and the kernels' numerics; the GPU run (device-check.sh) checks
 * the rest. Needs a C++20 compiler ({@code g++}); where there is none, it is skipped and says so.
 */
// Host memory is handed to the emulated kernels by address, as device memory is to real ones.
@SuppressWarnings("restricted")
class KernelEmulationTest {

  private static final Path MODULE = Path.of("").toAbsolutePath();
  private static MethodHandle emuLaunch;

  private static final MemoryOwner DEVICE =
      new MemoryOwner() {
        @Override
        public String name() {
          return "emulated-device";
        }

        @Override
        public long outstandingBytes() {
          return 0;
        }
      };

  private final Tolerances tolerances = Tolerances.float32();
  private final SplittableRandom random = new SplittableRandom(20260101L);
  private Arena arena;
  private CpuReferenceBackend cpu;
  private MemorySegment errorWord;
  private KernelOps ops;

  @BeforeAll
  static void buildTheEmulatedKernels() throws IOException, InterruptedException {
    Optional<Path> compiler = onPath("g++").or(() -> onPath("c++"));
    assumeTrue(compiler.isPresent(), "no C++ compiler (g++) on PATH to build the kernel emulation");
    Path out = MODULE.resolve("target/kernel-emulation/libmspx_kernels_emulated.so");
    Files.createDirectories(out.getParent());
    List<String> command =
        List.of(
            compiler.get().toString(), "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", "-Wall",
            "-Werror", "-I", MODULE.resolve("src/main/cuda").toString(), "-o", out.toString(),
            MODULE.resolve("src/test/cuda/emulated_kernels.cpp").toString());
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the C++ compiler did not finish in 2 minutes");
    assertEquals(0, p.exitValue(), String.join(" ", command) + " failed:\n" + log);
    SymbolLookup lib = SymbolLookup.libraryLookup(out, Arena.global());
    emuLaunch =
        Linker.nativeLinker()
            .downcallHandle(
                lib.find("emu_launch").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
  }

  private static Optional<Path> onPath(String program) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path p = Path.of(dir, program);
      if (!dir.isEmpty() && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** Launches on the emulator through the production argument packing. */
  private static void emulate(
      CudaKernel kernel, int gx, int gy, int bx, int by, MemorySegment stream, Object... args) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment params = CudaModule.pack(a, kernel, args);
      int rc = (int) emuLaunch.invokeExact(a.allocateFrom(kernel.entry), gx, gy, bx, by, params);
      assertEquals(0, rc, "the emulator has no kernel " + kernel.entry);
    } catch (Throwable t) {
      if (t instanceof RuntimeException r) {
        throw r;
      }
      if (t instanceof Error e) {
        throw e;
      }
      throw new AssertionError(t);
    }
  }

  @BeforeEach
  void open() {
    arena = Arena.ofShared();
    cpu = new CpuReferenceBackend("reference");
    errorWord = arena.allocate(DeviceErrors.BYTES, 8);
    MemorySegment partials = arena.allocate(KernelOps.MAX_PARTIALS * 8L, 8);
    ops = new KernelOps(KernelEmulationTest::emulate, MemorySegment.NULL, errorWord.address(), partials.address());
  }

  @AfterEach
  void close() {
    for (Pair p : pairs) {
      p.ref.close();
    }
    pairs.clear();
    cpu.close();
    arena.close();
  }

  // ---------------------------------------------------------------- tensors on both sides

  /** The same values as a reference tensor and as an emulated device tensor. */
  private record Pair(HostTensor ref, DeviceTensor dev, MemorySegment devMemory) {}

  private final List<Pair> pairs = new ArrayList<>();

  private Pair pair(Shape shape, DType dtype, double[] values) {
    HostTensor ref = (HostTensor) cpu.allocate(shape, dtype, "t" + pairs.size());
    for (int i = 0; i < values.length; i++) {
      ref.setFromDouble(i, values[i]);
    }
    MemorySegment mem = arena.allocate(ref.byteSize(), 64);
    MemorySegment.copy(ref.segment(), 0, mem, 0, ref.byteSize());
    DeviceTensor dev = new DeviceTensor(shape, dtype, DEVICE, ref.label(), mem.address(), () -> {}, () -> false);
    Pair p = new Pair(ref, dev, mem);
    pairs.add(p);
    return p;
  }

  private Pair floats(Shape shape, double lo, double hi) {
    return pair(shape, DType.FLOAT32, HostData.uniform(random, (int) shape.elements(), lo, hi));
  }

  /** An output, poisoned on both sides so that an element left unwritten fails. */
  private Pair output(Shape shape, DType dtype) {
    int n = (int) shape.elements();
    double[] poison = new double[n];
    java.util.Arrays.fill(
        poison,
        switch (dtype) {
          case FLOAT32 -> Double.NaN;
          case UINT8 -> HostData.POISON_UINT8;
          case INT32 -> HostData.POISON_INT32;
        });
    return pair(shape, dtype, poison);
  }

  private static double[] values(MemorySegment mem, DType dtype, long n) {
    double[] out = new double[(int) n];
    for (int i = 0; i < n; i++) {
      out[i] =
          switch (dtype) {
            case FLOAT32 -> mem.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
            case INT32 -> mem.getAtIndex(JAVA_INT, i);
            case UINT8 -> Byte.toUnsignedInt(mem.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i));
          };
    }
    return out;
  }

  /** The emulated output equals the reference's within {@code tol}; exactly for integers. */
  private void same(String what, Pair p, Tolerance tol) {
    long n = p.ref.shape().elements();
    double[] expected = values(p.ref.segment(), p.ref.dtype(), n);
    double[] actual = values(p.devMemory, p.dev.dtype(), n);
    for (int i = 0; i < n; i++) {
      boolean ok =
          p.ref.dtype() == DType.FLOAT32
              ? !Double.isNaN(actual[i]) && tol.accepts(expected[i], actual[i])
              : expected[i] == actual[i];
      if (!ok) {
        fail(what + ": element " + i + " of " + n + " is " + actual[i] + ", the reference says " + expected[i]
            + (p.ref.dtype() == DType.FLOAT32 ? " (bound " + tol + ")" : ""));
      }
    }
  }

  private void exact(String what, Pair p) {
    same(what, p, new Tolerance(0, 0));
  }

  // ---------------------------------------------------------------- the ops

  @Test
  void everyKernelOfTheTableIsEmulated() {
    // An unknown name returns -1 from the emulator; this launches each with n = 0 elements.
    for (CudaKernel k : CudaKernel.values()) {
      try (Arena a = Arena.ofConfined()) {
        int rc = (int) emuLaunch.invokeExact(a.allocateFrom(k.entry), 0, 0, 1, 1, MemorySegment.NULL);
        assertEquals(0, rc, k.entry + " is missing from emulated_kernels.cpp");
      } catch (Throwable t) {
        throw new AssertionError(t);
      }
    }
  }

  @Test
  void gateAndItsGradientIncludingSaturation() {
    Shape pre = Shape.nchw(2, 8, 3, 5);
    double[] v = HostData.uniform(random, (int) pre.elements(), -3, 3);
    v[0] = 30;
    v[1] = -1000;
    v[60] = 1000; // second half of sample 0
    v[61] = -30;
    Pair p = pair(pre, DType.FLOAT32, v);
    Pair out = output(pre.with(1, 4), DType.FLOAT32);
    cpu.gate(p.ref, out.ref);
    ops.gate(p.dev, out.dev);
    same("gate", out, tolerances.activation());

    Pair dout = floats(pre.with(1, 4), -1, 1);
    Pair dpre = output(pre, DType.FLOAT32);
    cpu.gateBackward(p.ref, dout.ref, dpre.ref);
    ops.gateBackward(p.dev, dout.dev, dpre.dev);
    same("gateBackward", dpre, tolerances.activation());
  }

  @Test
  void elementwiseOps() {
    Shape s = Shape.nchw(2, 3, 4, 5);
    Pair a = floats(s, -2, 2);
    Pair b = floats(s, -2, 2);
    Pair out = output(s, DType.FLOAT32);
    cpu.add(a.ref, b.ref, out.ref);
    ops.add(a.dev, b.dev, out.dev);
    same("add", out, tolerances.elementwise());

    cpu.scale(a.ref, -0.37, out.ref);
    ops.scale(a.dev, -0.37, out.dev);
    same("scale", out, tolerances.elementwise());

    Pair bias = floats(Shape.of(2, 3), -1, 1);
    cpu.addChannelBias(a.ref, bias.ref, out.ref);
    ops.addChannelBias(a.dev, bias.dev, out.dev);
    same("addChannelBias", out, tolerances.elementwise());

    Pair mask = pair(s, DType.FLOAT32, HostData.mask(random, (int) s.elements()));
    Pair masked = output(s, DType.FLOAT32);
    ops.maskMultiply(a.dev.address(), mask.dev.address(), masked.dev.address(), s.elements());
    double[] w = values(a.ref.segment(), DType.FLOAT32, s.elements());
    double[] m = values(mask.ref.segment(), DType.FLOAT32, s.elements());
    for (int i = 0; i < w.length; i++) {
      masked.ref.setFloat(i, (float) w[i] * (float) m[i]);
    }
    exact("maskMultiply", masked);
  }

  @Test
  void sumSpatialOverRowsLongerThanABlock() {
    Shape s = Shape.nchw(2, 3, 17, 19);
    Pair dy = floats(s, -1, 1);
    Pair out = output(Shape.of(2, 3), DType.FLOAT32);
    cpu.sumSpatial(dy.ref, out.ref);
    ops.sumSpatial(dy.dev, out.dev);
    same("sumSpatial", out, tolerances.reduction().forSumOf(17 * 19));
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 16, 256})
  void dequantize(int levels) {
    Shape s = Shape.nchw(2, 3, 5, 7);
    double[] v = HostData.levels(random, (int) s.elements(), levels);
    v[0] = 0;
    v[1] = levels - 1;
    Pair x = pair(s, DType.UINT8, v);
    Pair out = output(s, DType.FLOAT32);
    cpu.dequantize(x.ref, levels, out.ref);
    ops.dequantize(x.dev, levels, out.dev);
    exact("dequantize L=" + levels, out);
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void spaceToDepthAndBackForEveryDtypeAndBlock(DType dtype) {
    for (int block : new int[] {1, 2, 4}) {
      Shape space = Shape.nchw(2, 3, 8, 12);
      Shape depth = Shape.nchw(2, 3 * block * block, 8 / block, 12 / block);
      Pair x = pair(space, dtype, HostData.of(random, (int) space.elements(), dtype));
      Pair d = output(depth, dtype);
      cpu.spaceToDepth(x.ref, block, d.ref);
      ops.rearrange(x.dev, d.dev, space, block, true);
      exact("spaceToDepth(" + block + ") " + dtype, d);
      Pair back = output(space, dtype);
      cpu.depthToSpace(d.ref, block, back.ref);
      ops.rearrange(d.dev, back.dev, space, block, false);
      exact("depthToSpace(" + block + ") " + dtype, back);
    }
  }

  @Test
  void fillFloatAndInt() {
    Pair f = output(Shape.of(3, 7), DType.FLOAT32);
    cpu.fill(f.ref, -2.5);
    ops.fill(f.dev, -2.5);
    exact("fill float32", f);
    Pair i = output(Shape.of(300), DType.INT32);
    cpu.fill(i.ref, (1 << 24) + 1);
    ops.fill(i.dev, (1 << 24) + 1);
    exact("fill int32", i);
    cpu.fill(i.ref, Integer.MIN_VALUE);
    ops.fill(i.dev, Integer.MIN_VALUE);
    exact("fill int32 min", i);
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 256})
  void softmaxCrossEntropyAndTheGradientFixUp(int levels) {
    for (int c : new int[] {1, 3}) {
      Shape t = Shape.nchw(2, c, 3, 4);
      Shape z = t.with(1, c * levels);
      double[] logits = HostData.uniform(random, (int) z.elements(), -4, 4);
      logits[0] = 300;
      logits[1] = -300;
      logits[2] = 150;
      Pair zl = pair(z, DType.FLOAT32, logits);
      Pair targets = pair(t, DType.UINT8, HostData.targets(random, (int) t.elements(), levels));
      Pair nll = output(t, DType.FLOAT32);
      cpu.softmaxCrossEntropy(zl.ref, targets.ref, nll.ref);
      ops.softmaxCrossEntropy(zl.dev, targets.dev, nll.dev);
      double maxAbs = 300;
      Tolerance sm = tolerances.softmax();
      same("softmaxCrossEntropy L=" + levels + " C=" + c, nll, new Tolerance(sm.atol() + sm.rtol() * maxAbs, sm.rtol()));

      // On the GPU cuDNN writes softmax(z) into dlogits first; here the reference's softmax does.
      Pair dnll = floats(t, -1, 1);
      Pair dl = pair(z, DType.FLOAT32, softmax(logits, t, levels));
      Pair expected = output(z, DType.FLOAT32);
      cpu.softmaxCrossEntropyBackward(zl.ref, targets.ref, dnll.ref, expected.ref);
      ops.softmaxCrossEntropyBackward(targets.dev, dnll.dev, dl.dev);
      MemorySegment.copy(expected.ref.segment(), 0, dl.ref.segment(), 0, expected.ref.byteSize());
      same("softmaxCrossEntropyBackward L=" + levels + " C=" + c, dl, tolerances.softmax());
    }
    assertEquals(0, errorWord.get(JAVA_LONG, 0), "no error recorded for valid targets");
  }

  /** softmax over the L logits of each sub-pixel, channel-major, in double. */
  private static double[] softmax(double[] z, Shape targets, int levels) {
    int n = targets.dim(0), c = targets.dim(1), hw = targets.dim(2) * targets.dim(3);
    double[] p = new double[z.length];
    for (int b = 0; b < n * c; b++) {
      for (int q = 0; q < hw; q++) {
        double max = Double.NEGATIVE_INFINITY;
        for (int l = 0; l < levels; l++) {
          max = Math.max(max, (float) z[(b * levels + l) * hw + q]);
        }
        double s = 0;
        for (int l = 0; l < levels; l++) {
          s += Math.exp((float) z[(b * levels + l) * hw + q] - max);
        }
        for (int l = 0; l < levels; l++) {
          p[(b * levels + l) * hw + q] = Math.exp((float) z[(b * levels + l) * hw + q] - max) / s;
        }
      }
    }
    return p;
  }

  @Test
  void aTargetNotBelowLevelsIsRecordedInTheErrorWord() {
    Shape t = Shape.nchw(1, 1, 2, 3);
    Pair z = floats(t.with(1, 4), -1, 1);
    Pair targets = pair(t, DType.UINT8, new double[] {0, 1, 2, 3, 4, 3});
    Pair nll = output(t, DType.FLOAT32);
    ops.softmaxCrossEntropy(z.dev, targets.dev, nll.dev);
    assertEquals(DeviceErrors.TARGET_NOT_BELOW_LEVELS, errorWord.get(JAVA_LONG, 0));
    assertEquals(4, errorWord.get(JAVA_LONG, 8), "flat index of the bad target");
    assertEquals(4, errorWord.get(JAVA_LONG, 16), "its value");
    assertEquals(4, errorWord.get(JAVA_LONG, 24), "L");
    assertTrue(Double.isNaN(values(nll.devMemory, DType.FLOAT32, 6)[4]), "the bad sub-pixel's nll is NaN");
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 256})
  void sampleCategoricalByInverseCdf(int levels) {
    for (int c : new int[] {1, 3}) {
      Shape t = Shape.nchw(2, c, 4, 5);
      Shape z = t.with(1, c * levels);
      double[] logits = HostData.uniform(random, (int) z.elements(), -3, 3);
      logits[0] = 40; // a dominant level at sub-pixel 0
      Pair zl = pair(z, DType.FLOAT32, logits);
      double[] u = HostData.uniform(random, (int) t.elements(), 0, 1);
      u[0] = 0;
      u[1] = Math.nextDown(1f);
      Pair uniforms = pair(t, DType.FLOAT32, u);
      Pair out = output(t, DType.UINT8);
      cpu.sampleCategorical(zl.ref, uniforms.ref, out.ref);
      ops.sampleCategorical(zl.dev, uniforms.dev, out.dev);
      exact("sampleCategorical L=" + levels + " C=" + c, out);
    }
  }

  @Test
  void embeddingLookupAndGradientWithRepeatsAndAnUnusedRow() {
    Pair table = floats(Shape.of(5, 7), -1, 1);
    Pair idx = pair(Shape.of(6), DType.INT32, new double[] {3, 0, 3, 1, 3, 0});
    Pair out = output(Shape.of(6, 7), DType.FLOAT32);
    cpu.embeddingLookup(table.ref, idx.ref, out.ref);
    ops.embeddingLookup(table.dev, idx.dev, out.dev);
    exact("embeddingLookup", out);

    Pair dout = floats(Shape.of(6, 7), -1, 1);
    Pair dtable = output(Shape.of(5, 7), DType.FLOAT32);
    cpu.embeddingBackward(idx.ref, dout.ref, dtable.ref);
    ops.embeddingBackward(idx.dev, dout.dev, dtable.dev);
    same("embeddingBackward", dtable, tolerances.reduction().forSumOf(6));
    assertEquals(0, errorWord.get(JAVA_LONG, 0));

    Pair bad = pair(Shape.of(2), DType.INT32, new double[] {1, 5});
    Pair out2 = output(Shape.of(2, 7), DType.FLOAT32);
    ops.embeddingLookup(table.dev, bad.dev, out2.dev);
    assertEquals(DeviceErrors.INDEX_OUT_OF_RANGE, errorWord.get(JAVA_LONG, 0));
    assertEquals(1, errorWord.get(JAVA_LONG, 8));
    assertEquals(5, errorWord.get(JAVA_LONG, 16));
    assertEquals(5, errorWord.get(JAVA_LONG, 24));
  }

  @Test
  void matmulForEveryTransposeAndAwkwardSizes() {
    int[][] sizes = {{19, 1, 23}, {19, 7, 23}, {5, 9, 33}, {17, 64, 16}};
    for (int[] mkn : sizes) {
      int m = mkn[0], k = mkn[1], n = mkn[2];
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          Pair a = floats(ta ? Shape.of(k, m) : Shape.of(m, k), -1, 1);
          Pair b = floats(tb ? Shape.of(n, k) : Shape.of(k, n), -1, 1);
          Pair out = output(Shape.of(m, n), DType.FLOAT32);
          cpu.matmul(a.ref, ta, b.ref, tb, out.ref);
          ops.matmul(a.dev, ta, b.dev, tb, out.dev);
          same("matmul " + m + "x" + k + "x" + n + " ta=" + ta + " tb=" + tb, out, tolerances.matmul().forSumOf(k));
        }
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 1000, 10_007, 70_001})
  void sumAndSumOfSquaresInTwoPasses(int n) {
    Pair x = floats(Shape.of(n), -1, 1);
    Pair out = output(Shape.of(1), DType.FLOAT32);
    cpu.sum(x.ref, out.ref);
    ops.reduce(x.dev, out.dev, false);
    same("sum n=" + n, out, tolerances.reduction().forSumOf(n));
    cpu.sumOfSquares(x.ref, out.ref);
    ops.reduce(x.dev, out.dev, true);
    same("sumOfSquares n=" + n, out, tolerances.reduction().forSumOf(n));
  }

  @Test
  void adamSixStepsFromZeroAndTwoFromStepAThousand() {
    Shape s = Shape.of(37);
    for (AdamOp op : List.of(AdamOp.defaults(), AdamOp.of(1e-2, 0.8, 0.99, 1e-6))) {
      Pair p = floats(s, -1, 1);
      Pair m = pair(s, DType.FLOAT32, new double[37]);
      Pair v = pair(s, DType.FLOAT32, new double[37]);
      for (long step : new long[] {1, 2, 3, 4, 5, 6, 1000, 1001}) {
        Pair g = floats(s, -1, 1);
        cpu.adamUpdate(op, step, p.ref, g.ref, m.ref, v.ref);
        ops.adam(op, step, p.dev, g.dev, m.dev, v.dev);
        same("adam param step " + step, p, tolerances.adam());
        same("adam m step " + step, m, tolerances.adam());
        same("adam v step " + step, v, tolerances.adam());
      }
    }
  }

  /** The emulation itself must be able to fail: a wrong argument order is caught. */
  @Test
  void aSwappedArgumentIsCaught() {
    Shape s = Shape.of(40);
    Pair x = floats(s, 1, 2);
    Pair out = output(s, DType.FLOAT32);
    cpu.scale(x.ref, 3.0, out.ref);
    // x and out swapped: out (NaN) is scaled into x, and out keeps its poison.
    emulate(CudaKernel.SCALE, 1, 1, 256, 1, MemorySegment.NULL, out.dev.address(), 3.0, x.dev.address(), 40L);
    AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> same("scale", out, tolerances.elementwise()));
    assertTrue(e.getMessage().contains("element 0 of 40 is NaN"), e.getMessage());
  }
}
