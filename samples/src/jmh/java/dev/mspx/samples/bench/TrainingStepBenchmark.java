package dev.mspx.samples.bench;

import dev.mspx.api.AdamOp;
import dev.mspx.api.Backend;
import dev.mspx.api.DType;
import dev.mspx.api.HostMemory;
import dev.mspx.api.HostTensor;
import dev.mspx.api.Shape;
import dev.mspx.api.plan.ExecutionPlan;
import dev.mspx.backend.cpu.CpuKernels;
import dev.mspx.core.Adam;
import dev.mspx.core.Parameters;
import dev.mspx.core.PlanRuntime;
import dev.mspx.samples.configs.Fashion28Plan;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One fashion28 training step, as the PyTorch peer's {@code step-bench} times it: a fresh batch of
 * random images, the gradients of every network ({@link PlanRuntime#gradients()}), the loss read back,
 * and an Adam update of every parameter. Run by {@code bench/step-vs-torch.sh}, or directly:
 *
 * <pre>
 * ./mvnw -Pbench -pl samples -am package -DskipTests
 * java @samples/target/launcher/jvm.args -cp 'samples/target/classes:samples/target/lib/*' \
 *     org.openjdk.jmh.Main TrainingStepBenchmark -p kernels=vector
 * </pre>
 *
 * <p>The JVM flags of the fork come from {@code jvm.args} through {@code -jvmArgsAppend} (the script
 * passes them); the Vector API needs {@code --add-modules jdk.incubator.vector}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(1)
public class TrainingStepBenchmark {

  /** Which CPU kernels: {@code vector} or {@code reference} ({@link CpuKernels}). */
  @Param({"vector", "reference"})
  public String kernels;

  /** Images per step (DESIGN.md: batch 32). */
  @Param({"32"})
  public int batch;

  private Backend backend;
  private Parameters parameters;
  private PlanRuntime runtime;
  private Adam adam;
  private HostMemory host;
  private HostTensor images;
  private final SplittableRandom random = new SplittableRandom(0);

  @Setup(Level.Trial)
  public void setUp() {
    ExecutionPlan plan = Fashion28Plan.plan();
    backend = CpuKernels.parse(kernels).create();
    parameters = Parameters.initialise(plan, backend, 0);
    runtime = new PlanRuntime(parameters, batch);
    adam = new Adam(parameters, AdamOp.defaults(), 0);
    host = HostMemory.create("bench");
    images = host.allocate(Shape.nchw(batch, 1, 28, 28), DType.UINT8, "images");
  }

  /** A new batch per step, outside the timing, as the peer draws its images before starting the clock. */
  @Setup(Level.Invocation)
  public void newBatch() {
    byte[] b = new byte[batch * 28 * 28];
    random.nextBytes(b);
    images.copyFrom(b);
  }

  /** Returns the loss so that nothing is dead code. */
  @Benchmark
  public double trainingStep() {
    runtime.setImages(images);
    runtime.gradients();
    double bitsPerDim = runtime.bitsPerDim();
    adam.update(runtime, bitsPerDim);
    return bitsPerDim;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    images.close();
    host.close();
    adam.close();
    runtime.close();
    parameters.close();
    backend.close();
  }
}
