package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.mspx.backend.cudnn.bindings.cuda_h;
import dev.mspx.backend.cudnn.bindings.cuda_runtime_api_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The GPU this process computes on, opened once: the discovered libraries made the process's own (so
 * that the jextract bindings resolve against them), the driver initialised, the device's primary
 * context retained, and mspx's kernels loaded. Every {@link CudnnBackend} shares it; each has its own
 * stream and cuDNN handle. It lives until the process exits: the CUDA runtime cannot be unloaded once
 * initialised, and the primary context is shared with any other CUDA user in the process (such as the
 * runtime itself).
 */
final class CudaDevice {

  /** The system property that picks the device by ordinal (as CUDA numbers them, after CUDA_VISIBLE_DEVICES). */
  static final String DEVICE_PROPERTY = "mspx.cudnn.device";

  /** The NVIDIA driver's CUDA library: the driver API, through which the kernels are loaded. */
  static final String DRIVER_LIBRARY = "libcuda.so.1";

  private static CudaDevice opened;
  private static RuntimeException openFailure;

  private static final ThreadLocal<CudaDevice> CURRENT = new ThreadLocal<>();

  final int ordinal;
  final List<String> details;
  final CudaModule kernels;
  private final MemorySegment context;

  private CudaDevice(int ordinal, MemorySegment context, CudaModule kernels, List<String> details) {
    this.ordinal = ordinal;
    this.context = context;
    this.kernels = kernels;
    this.details = List.copyOf(details);
  }

  /** The device opened by {@link #open}, or empty when none was (or it failed). */
  static synchronized Optional<CudaDevice> current() {
    return Optional.ofNullable(opened);
  }

  /**
   * Opens the device once per process; later calls return the same device, or throw the same
   * failure.
   *
   * @param cudart the CUDA runtime file that discovery loaded
   * @param cudnn the cuDNN file that discovery loaded
   * @throws IllegalStateException (or a {@link CudaException}) saying why the device cannot be used
   */
  static synchronized CudaDevice open(Path cudart, Path cudnn) {
    if (opened != null) {
      return opened;
    }
    if (openFailure != null) {
      throw openFailure;
    }
    try {
      opened = doOpen(cudart, cudnn);
      return opened;
    } catch (RuntimeException e) {
      openFailure = e;
      throw e;
    }
  }

  private static CudaDevice doOpen(Path cudart, Path cudnn) {
    Path driver = locateDriver();
    // The bindings look symbols up in the libraries of this class loader (SymbolLookup.loaderLookup):
    // loading the discovered files here is what binds them, and nothing else is ever consulted.
    for (Path lib : List.of(cudart, driver, cudnn)) {
      try {
        System.load(lib.toAbsolutePath().toString());
      } catch (UnsatisfiedLinkError e) {
        throw new IllegalStateException(lib + " was found but does not load into the JVM: " + e.getMessage(), e);
      }
    }
    int ordinal = Integer.getInteger(DEVICE_PROPERTY, 0);
    List<String> details = new ArrayList<>();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment intOut = arena.allocate(JAVA_INT);
      Status.driver(cuda_h.cuInit(0), "cuInit");
      Status.cuda(cuda_runtime_api_h.cudaGetDeviceCount(intOut), "cudaGetDeviceCount");
      int count = intOut.get(JAVA_INT, 0);
      if (ordinal < 0 || ordinal >= count) {
        throw new IllegalStateException(
            "-D" + DEVICE_PROPERTY + "=" + ordinal + " names no device: CUDA sees " + count
                + " (ordinals 0.." + (count - 1) + ")");
      }
      Status.driver(cuda_h.cuDeviceGet(intOut, ordinal), "cuDeviceGet(" + ordinal + ")");
      int device = intOut.get(JAVA_INT, 0);
      MemorySegment ctxOut = arena.allocate(ADDRESS);
      Status.driver(
          cuda_h.cuDevicePrimaryCtxRetain(ctxOut, device), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
      MemorySegment context = ctxOut.get(ADDRESS, 0);
      Status.driver(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent");
      Status.cuda(cuda_runtime_api_h.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
      CudaModule kernels;
      try {
        kernels = CudaModule.load();
      } catch (RuntimeException e) {
        int ignored = cuda_h.cuDevicePrimaryCtxRelease_v2(device);
        throw e;
      }
      details.add(describe(ordinal, arena));
      CudaDevice d = new CudaDevice(ordinal, context, kernels, details);
      CURRENT.set(d);
      return d;
    }
  }

  private static String describe(int ordinal, Arena arena) {
    MemorySegment v = arena.allocate(JAVA_INT);
    StringBuilder s = new StringBuilder("compute on device " + ordinal);
    int major = attribute(cuda_runtime_api_h.cudaDevAttrComputeCapabilityMajor(), ordinal, v);
    int minor = attribute(cuda_runtime_api_h.cudaDevAttrComputeCapabilityMinor(), ordinal, v);
    int sms = attribute(cuda_runtime_api_h.cudaDevAttrMultiProcessorCount(), ordinal, v);
    s.append(": compute capability ").append(major).append('.').append(minor);
    s.append(", ").append(sms).append(" multiprocessors");
    MemorySegment free = arena.allocate(JAVA_LONG);
    MemorySegment total = arena.allocate(JAVA_LONG);
    if (cuda_runtime_api_h.cudaMemGetInfo(free, total) == 0) {
      s.append(", ")
          .append(free.get(JAVA_LONG, 0) >> 20)
          .append(" of ")
          .append(total.get(JAVA_LONG, 0) >> 20)
          .append(" MiB free");
    }
    return s.append("; mspx kernels loaded from ").append(CudaModule.RESOURCE).toString();
  }

  private static int attribute(int attribute, int ordinal, MemorySegment out) {
    Status.cuda(
        cuda_runtime_api_h.cudaDeviceGetAttribute(out, attribute, ordinal),
        "cudaDeviceGetAttribute(" + attribute + ", device " + ordinal + ")");
    return out.get(JAVA_INT, 0);
  }

  /**
   * The driver library, by name through the system loader: the NVIDIA driver installs it in the
   * system's library folders (it is never in a Python wheel), and the CUDA runtime finds it the same
   * way.
   */
  static Path locateDriver() {
    DynamicLoader.Outcome outcome = DynamicLoader.load(DRIVER_LIBRARY);
    if (outcome.symbols().isEmpty()) {
      throw new IllegalStateException(
          DRIVER_LIBRARY
              + " (the NVIDIA driver's CUDA library) does not load: "
              + outcome.error()
              + "; mspx loads its kernels through the driver API: install the NVIDIA driver, or run"
              + " the container with the NVIDIA runtime");
    }
    SymbolLookup symbols = outcome.symbols().get();
    Optional<String> file = symbols.find("cuInit").flatMap(DynamicLoader::fileOf);
    if (file.isEmpty() || !Path.of(file.get()).isAbsolute()) {
      throw new IllegalStateException(
          DRIVER_LIBRARY + " loads, but the loader cannot say from which file (dladdr), so it"
              + " cannot be bound; put its folder on LD_LIBRARY_PATH");
    }
    return Path.of(file.get());
  }

  /**
   * Makes this device's context the calling thread's: CUDA keeps the current context per thread,
   * and backends may be called from any thread.
   */
  void bindToCurrentThread() {
    if (CURRENT.get() != this) {
      Status.driver(cuda_h.cuCtxSetCurrent(context), "cuCtxSetCurrent");
      Status.cuda(cuda_runtime_api_h.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
      CURRENT.set(this);
    }
  }
}
