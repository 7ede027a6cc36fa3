package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Asks a loaded CUDA runtime for its version, the driver's version and the devices it sees.
 *
 * <p>Hand-written downcall handles on the candidate library's own {@link SymbolLookup}, not the
 * jextract bindings: the bindings resolve through the libraries loaded into the process, and a
 * candidate is only loaded into the process ({@link CudaDevice}) once these probes accept it.
 */
// Native access is this class's job; the JVM flags enable it (--enable-native-access).
@SuppressWarnings("restricted")
final class CudaRuntimeProbe {

  // cudaDeviceAttr values from driver_types.h.
  private static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
  private static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;

  /**
   * What the runtime said.
   *
   * @param runtimeVersion {@code 1000·major + 10·minor}, e.g. 13000; -1 if it could not be asked
   * @param driverVersion the newest CUDA version the installed driver supports, 0 with no driver;
   *     -1 if it could not be asked
   * @param deviceStatus the status of {@code cudaGetDeviceCount}
   * @param deviceCount the devices seen, 0 unless {@code deviceStatus} is success
   * @param devices one line per device (ordinal and compute capability)
   * @param problems functions the library lacks or calls that failed other than the device count
   */
  record Result(
      int runtimeVersion,
      int driverVersion,
      CudaStatus deviceStatus,
      int deviceCount,
      List<String> devices,
      List<String> problems) {

    Result {
      devices = List.copyOf(devices);
      problems = List.copyOf(problems);
    }
  }

  private static final Linker LINKER = Linker.nativeLinker();

  private final SymbolLookup cudart;

  CudaRuntimeProbe(SymbolLookup cudart) {
    this.cudart = cudart;
  }

  Result probe() {
    List<String> problems = new ArrayList<>();
    int runtime = intQuery("cudaRuntimeGetVersion", problems);
    int driver = intQuery("cudaDriverGetVersion", problems);
    CudaStatus deviceStatus;
    int count = 0;
    List<String> devices = new ArrayList<>();
    Optional<MethodHandle> getDeviceCount = handle("cudaGetDeviceCount", intOut());
    if (getDeviceCount.isEmpty()) {
      problems.add("the CUDA runtime has no cudaGetDeviceCount");
      deviceStatus = CudaStatus.of(999);
    } else {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment out = arena.allocate(JAVA_INT);
        deviceStatus = status((int) getDeviceCount.get().invokeExact(out));
        count = deviceStatus.ok() ? out.get(JAVA_INT, 0) : 0;
      } catch (Throwable t) {
        throw new IllegalStateException("cudaGetDeviceCount failed to run: " + t, t);
      }
      for (int device = 0; device < count; device++) {
        devices.add(describeDevice(device));
      }
    }
    return new Result(runtime, driver, deviceStatus, count, devices, problems);
  }

  /** {@code 13000} as {@code 13.0}. */
  static String version(int cudaVersion) {
    return (cudaVersion / 1000) + "." + (cudaVersion % 1000) / 10;
  }

  private String describeDevice(int device) {
    Optional<MethodHandle> attribute =
        handle(
            "cudaDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    if (attribute.isEmpty()) {
      return "device " + device;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment major = arena.allocate(JAVA_INT);
      MemorySegment minor = arena.allocate(JAVA_INT);
      int s1 = (int) attribute.get().invokeExact(major, ATTR_COMPUTE_CAPABILITY_MAJOR, device);
      int s2 = (int) attribute.get().invokeExact(minor, ATTR_COMPUTE_CAPABILITY_MINOR, device);
      if (s1 != 0 || s2 != 0) {
        return "device "
            + device
            + " (compute capability unknown: "
            + status(s1 != 0 ? s1 : s2).describe()
            + ")";
      }
      return "device "
          + device
          + ": compute capability "
          + major.get(JAVA_INT, 0)
          + "."
          + minor.get(JAVA_INT, 0);
    } catch (Throwable t) {
      return "device " + device + " (compute capability unknown: " + t + ")";
    }
  }

  /** Calls {@code cudaError_t f(int*)}; returns the int, or -1 after noting why not. */
  private int intQuery(String function, List<String> problems) {
    Optional<MethodHandle> h = handle(function, intOut());
    if (h.isEmpty()) {
      problems.add("the CUDA runtime has no " + function);
      return -1;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(JAVA_INT);
      CudaStatus s = status((int) h.get().invokeExact(out));
      if (!s.ok()) {
        problems.add(function + " returned " + s.describe());
        return -1;
      }
      return out.get(JAVA_INT, 0);
    } catch (Throwable t) {
      throw new IllegalStateException(function + " failed to run: " + t, t);
    }
  }

  /** The status with the runtime's own name and text for it when it has them. */
  CudaStatus status(int code) {
    CudaStatus known = CudaStatus.of(code);
    String name = string("cudaGetErrorName", code).orElse(known.name());
    String text = string("cudaGetErrorString", code).orElse(known.text());
    return new CudaStatus(code, name, text);
  }

  private Optional<String> string(String function, int code) {
    Optional<MethodHandle> h = handle(function, FunctionDescriptor.of(ADDRESS, JAVA_INT));
    if (h.isEmpty()) {
      return Optional.empty();
    }
    try {
      MemorySegment s = (MemorySegment) h.get().invokeExact(code);
      return s.equals(MemorySegment.NULL)
          ? Optional.empty()
          : Optional.of(s.reinterpret(Long.MAX_VALUE).getString(0));
    } catch (Throwable t) {
      return Optional.empty(); // the table in CudaStatus still names the code
    }
  }

  private static FunctionDescriptor intOut() {
    return FunctionDescriptor.of(JAVA_INT, ADDRESS);
  }

  private Optional<MethodHandle> handle(String function, FunctionDescriptor descriptor) {
    return cudart.find(function).map(address -> LINKER.downcallHandle(address, descriptor));
  }
}
