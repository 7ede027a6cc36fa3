package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.mspx.backend.cudnn.bindings.cuda_h;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;

/**
 * The PTX of {@code mspx_kernels.cu}, loaded into the current CUDA context through the driver API,
 * and the launches of its kernels. The driver JIT-compiles the PTX for the GPU at load time (and
 * caches the result in {@code ~/.nv/ComputeCache}).
 */
final class CudaModule implements KernelOps.Launcher {

  /** The committed PTX, beside this class. */
  static final String RESOURCE = "mspx_kernels.ptx";

  /** Grid-stride kernels never need more blocks than this to fill a GPU. */
  static final int MAX_BLOCKS = 1 << 20;

  private static final int JIT_LOG_BYTES = 16 * 1024;

  private final MemorySegment module;
  private final Map<CudaKernel, MemorySegment> functions;

  private CudaModule(MemorySegment module, Map<CudaKernel, MemorySegment> functions) {
    this.module = module;
    this.functions = functions;
  }

  /** The PTX text of the resource. */
  static String ptx() {
    try (InputStream in = CudaModule.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(
            RESOURCE + " is missing from the class path beside " + CudaModule.class.getName()
                + ": the backend-cudnn jar is incomplete; rebuild it");
      }
      return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
    }
  }

  /**
   * Loads the PTX into the current context and looks up every kernel of {@link CudaKernel}.
   *
   * @throws CudaException with the JIT compiler's log when the driver refuses the PTX
   */
  static CudaModule load() {
    String ptx = ptx();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment image = arena.allocateFrom(ptx); // NUL-terminated, as the driver reads text PTX
      MemorySegment errorLog = arena.allocate(JIT_LOG_BYTES);
      MemorySegment options = arena.allocate(JAVA_INT, 2);
      options.setAtIndex(JAVA_INT, 0, cuda_h.CU_JIT_ERROR_LOG_BUFFER());
      options.setAtIndex(JAVA_INT, 1, cuda_h.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES());
      MemorySegment values = arena.allocate(ADDRESS, 2);
      values.setAtIndex(ADDRESS, 0, errorLog);
      // The size option is passed as the pointer-sized value itself, not through a pointer.
      values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(JIT_LOG_BYTES));
      MemorySegment out = arena.allocate(ADDRESS);
      int status = cuda_h.cuModuleLoadDataEx(out, image, 2, options, values);
      if (status != 0) {
        String log = errorLog.getString(0).strip();
        throw Status.driverError(
            status,
            "cuModuleLoadDataEx(" + RESOURCE + ")" + (log.isEmpty() ? "" : " [JIT log: " + log + "]"));
      }
      MemorySegment module = out.get(ADDRESS, 0);
      Map<CudaKernel, MemorySegment> functions = new EnumMap<>(CudaKernel.class);
      try {
        for (CudaKernel k : CudaKernel.values()) {
          Status.driver(
              cuda_h.cuModuleGetFunction(out, module, arena.allocateFrom(k.entry)),
              () -> "cuModuleGetFunction(" + k.entry + ") in " + RESOURCE);
          functions.put(k, out.get(ADDRESS, 0));
        }
      } catch (RuntimeException e) {
        int ignored = cuda_h.cuModuleUnload(module); // already failing: report the first error
        throw e;
      }
      return new CudaModule(module, functions);
    }
  }

  /** Blocks of {@link CudaKernel#THREADS} for a grid-stride loop over {@code n} elements. */
  static int blocksFor(long n) {
    long blocks = (n + CudaKernel.THREADS - 1) / CudaKernel.THREADS;
    return (int) Math.max(1, Math.min(blocks, MAX_BLOCKS));
  }

  /** Launches {@code kernel} on a {@code gridX × gridY} grid of {@code blockX × blockY} blocks. */
  @Override
  public void launch(
      CudaKernel kernel,
      int gridX,
      int gridY,
      int blockX,
      int blockY,
      MemorySegment stream,
      Object... args) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment params = pack(arena, kernel, args);
      Status.driver(
          cuda_h.cuLaunchKernel(
              functions.get(kernel),
              gridX,
              gridY,
              1,
              blockX,
              blockY,
              1,
              0,
              stream,
              params,
              MemorySegment.NULL),
          () -> "cuLaunchKernel(" + kernel.entry + ", grid " + gridX + "x" + gridY + ")");
    }
  }

  /**
   * The {@code void** kernelParams} of a launch: one 8-byte slot per argument, written in the
   * parameter's C type, and an array of pointers to the slots. The driver copies the values at
   * launch, so the arena may close right after.
   */
  static MemorySegment pack(Arena arena, CudaKernel kernel, Object... args) {
    if (args.length != kernel.params.size()) {
      throw new IllegalArgumentException(
          kernel.entry + " takes " + kernel.params.size() + " arguments " + kernel.params + ", got "
              + args.length);
    }
    MemorySegment slots = arena.allocate(JAVA_LONG, Math.max(1, args.length));
    MemorySegment pointers = arena.allocate(ADDRESS, Math.max(1, args.length));
    for (int i = 0; i < args.length; i++) {
      CudaKernel.Param p = kernel.params.get(i);
      Object a = args[i];
      if (a == null || a.getClass() != p.carrier) {
        throw new IllegalArgumentException(
            kernel.entry + " argument " + i + " must be " + p + ", passed as a Java "
                + p.carrier.getSimpleName() + "; got "
                + (a == null ? "null" : a.getClass().getSimpleName() + " " + a));
      }
      long offset = 8L * i;
      switch (p) {
        case PTR, I64 -> slots.set(JAVA_LONG, offset, (Long) a);
        case I32, U32 -> slots.set(JAVA_INT, offset, (Integer) a);
        case F64 -> slots.set(JAVA_DOUBLE, offset, (Double) a);
      }
      pointers.setAtIndex(ADDRESS, i, slots.asSlice(offset, 8));
    }
    return pointers;
  }

  /** Unloads the module (the process-wide one is kept until exit). */
  void unload() {
    Status.driver(cuda_h.cuModuleUnload(module), "cuModuleUnload(" + RESOURCE + ")");
  }
}
