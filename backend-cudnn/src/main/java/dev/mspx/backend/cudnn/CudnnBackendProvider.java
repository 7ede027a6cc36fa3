package dev.mspx.backend.cudnn;

import dev.mspx.api.Availability;
import dev.mspx.api.Backend;
import dev.mspx.api.BackendProvider;
import dev.mspx.api.BackendUnavailableException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The cuDNN backend as {@link java.util.ServiceLoader} sees it. {@link #availability()} finds
 * libcudnn and the CUDA runtime ({@link CudnnLibraries}, one documented order, never a download),
 * checks cuDNN's version (9 or newer) and sub-libraries, asks the runtime for devices, and finally
 * opens the GPU ({@link CudaDevice}: driver, context, mspx's PTX kernels). It is available only when
 * all of that works, and otherwise reports every reason it found, each saying what to do. {@link
 * #create()} starts a {@link CudnnBackend} on the opened device, or throws those reasons.
 */
public final class CudnnBackendProvider implements BackendProvider {

  private static final System.Logger LOG = System.getLogger(CudnnBackendProvider.class.getName());

  private final Supplier<LibrarySearch> search;
  private Availability availability; // probed once: loading and initialising CUDA is not repeatable

  public CudnnBackendProvider() {
    this(LibrarySearch::fromEnvironment);
  }

  /** A provider that searches as {@code search} says: for tests. */
  CudnnBackendProvider(Supplier<LibrarySearch> search) {
    this.search = search;
  }

  @Override
  public String name() {
    return "cudnn";
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public synchronized Availability availability() {
    if (availability == null) {
      try {
        availability = probe(search.get());
      } catch (RuntimeException | LinkageError e) {
        availability =
            Availability.no(
                "the cuDNN probe failed unexpectedly ("
                    + e
                    + "); report it with the output of ./mspx info",
                List.of());
      }
      LOG.log(
          System.Logger.Level.DEBUG,
          "cudnn: {0}; details: {1}",
          availability.summary(),
          availability.details());
    }
    return availability;
  }

  @Override
  public Backend create() {
    Availability a = availability();
    if (!a.available()) {
      throw new BackendUnavailableException(
          "the cudnn backend cannot start: " + String.join("; ", a.reasons()) + "; use --backend cpu");
    }
    CudaDevice device =
        CudaDevice.current()
            .orElseThrow(() -> new IllegalStateException("cudnn is available but no device is open"));
    return new CudnnBackend(
        device,
        ConvolutionAlgorithms.fromSystemProperties(),
        !Boolean.getBoolean(CudnnBackend.TF32_PROPERTY));
  }

  private static Availability probe(LibrarySearch search) {
    String os = System.getProperty("os.name", "unknown");
    if (!os.startsWith("Linux")) {
      return Availability.no(
          "the cuDNN backend runs on Linux only (os.name is " + os + "); use --backend cpu",
          List.of());
    }
    List<String> reasons = new ArrayList<>();
    List<String> details = new ArrayList<>();
    CudnnLibraries libraries = CudnnLibraries.discover(search);

    Optional<Long> cudnnBuiltFor = Optional.empty();
    CudnnLibraries.Located cudnn = libraries.cudnn();
    if (cudnn.loaded().isEmpty()) {
      reasons.add(cudnn.failure().orElseThrow());
    } else {
      cudnnBuiltFor = probeCudnn(cudnn.loaded().get(), reasons, details);
    }

    CudnnLibraries.Located cudart = libraries.cudart();
    if (cudart.loaded().isEmpty()) {
      reasons.add(cudart.failure().orElseThrow());
    } else {
      probeCudaRuntime(cudart.loaded().get(), cudnnBuiltFor, reasons, details);
    }

    if (reasons.isEmpty()) {
      openDevice(cudnn.loaded().orElseThrow(), cudart.loaded().orElseThrow(), reasons, details);
    }
    return new Availability(reasons.isEmpty(), reasons, details);
  }

  /**
   * The last check, once the libraries and a device are there: makes the libraries the process's,
   * opens the device and loads the kernels. What fails here fails the same way in {@link #create()}.
   */
  private static void openDevice(
      CudnnLibraries.Loaded cudnn,
      CudnnLibraries.Loaded cudart,
      List<String> reasons,
      List<String> details) {
    try {
      CudaDevice device = CudaDevice.open(Path.of(cudart.file()), Path.of(cudnn.file()));
      details.addAll(device.details);
    } catch (CudaException | CudnnException e) {
      reasons.add("the GPU does not start for mspx: " + e.getMessage());
    } catch (IllegalStateException e) {
      reasons.add(e.getMessage());
    }
  }

  /**
   * Checks the cuDNN version and sub-libraries; returns the CUDA runtime version it was built for.
   */
  private static Optional<Long> probeCudnn(
      CudnnLibraries.Loaded lib, List<String> reasons, List<String> details) {
    details.add("libcudnn: " + lib.file() + " (via " + lib.place() + ")");
    Optional<Long> version = CudnnProbe.version(lib.symbols());
    if (version.isEmpty()) {
      reasons.add(
          lib.file()
              + " has no cudnnGetVersion, so it is not cuDNN; point -D"
              + LibrarySearch.PATH_PROPERTY
              + " at cuDNN 9's libcudnn.so.9");
      return Optional.empty();
    }
    long v = version.get();
    Optional<Long> builtFor = CudnnProbe.cudartVersion(lib.symbols());
    details.add(
        "cuDNN "
            + CudnnProbe.version(v)
            + " (cudnnGetVersion "
            + v
            + ")"
            + builtFor
                .map(c -> ", built for CUDA " + CudaRuntimeProbe.version(c.intValue()))
                .orElse(""));
    if (v < CudnnProbe.MIN_VERSION) {
      reasons.add(
          "cuDNN "
              + CudnnProbe.version(v)
              + " at "
              + lib.file()
              + " is too old: mspx needs cuDNN 9 or newer (cudnnGetVersion >= 90000); install cuDNN"
              + " 9 (e.g. pip install nvidia-cudnn-cu13)");
      return builtFor;
    }
    List<Path> dirs = new ArrayList<>();
    lib.directory().ifPresent(dirs::add);
    String ldPath = System.getenv("LD_LIBRARY_PATH");
    if (ldPath != null) {
      for (String entry : ldPath.split(":")) {
        if (!entry.isBlank()) {
          dirs.add(Path.of(entry));
        }
      }
    }
    List<String> missing = CudnnProbe.missingSubLibraries(v, dirs);
    if (missing.isEmpty()) {
      reasons.addAll(CudnnProbe.versionChecks(lib.symbols()));
    } else {
      reasons.add(
          "cuDNN sub-libraries missing beside "
              + lib.file()
              + " and on LD_LIBRARY_PATH: "
              + String.join(", ", missing)
              + "; cuDNN 9 opens them at first use, so reinstall cuDNN 9 completely (the"
              + " nvidia-cudnn-cu13 wheel and NVIDIA's cudnn9 packages ship them all)");
    }
    return builtFor;
  }

  private static void probeCudaRuntime(
      CudnnLibraries.Loaded lib,
      Optional<Long> cudnnBuiltFor,
      List<String> reasons,
      List<String> details) {
    details.add("libcudart: " + lib.file() + " (via " + lib.place() + ")");
    CudaRuntimeProbe.Result r = new CudaRuntimeProbe(lib.symbols()).probe();
    reasons.addAll(r.problems());
    String runtime =
        r.runtimeVersion() < 0 ? "unknown" : CudaRuntimeProbe.version(r.runtimeVersion());
    String driver =
        r.driverVersion() < 0
            ? "unknown"
            : r.driverVersion() == 0
                ? "none (cudaDriverGetVersion reports 0)"
                : "supports CUDA " + CudaRuntimeProbe.version(r.driverVersion());
    details.add("CUDA runtime " + runtime + "; driver " + driver);
    if (!r.deviceStatus().ok()) {
      reasons.add(
          "cudaGetDeviceCount: "
              + r.deviceStatus().describe()
              + "; "
              + deviceHint(r.deviceStatus().code(), r.driverVersion(), runtime));
    } else if (r.deviceCount() == 0) {
      reasons.add(
          "cudaGetDeviceCount reports 0 devices; check nvidia-smi and CUDA_VISIBLE_DEVICES");
    } else {
      details.add("devices: " + r.deviceCount());
      details.addAll(r.devices());
    }
    if (cudnnBuiltFor.isPresent()
        && r.runtimeVersion() > 0
        && cudnnBuiltFor.get() / 1000 != r.runtimeVersion() / 1000) {
      String built = CudaRuntimeProbe.version(cudnnBuiltFor.get().intValue());
      reasons.add(
          "cuDNN was built for CUDA "
              + built
              + " but the CUDA runtime loaded is "
              + runtime
              + " ("
              + lib.file()
              + "); install the cuDNN build for CUDA "
              + runtime.split("\\.")[0]
              + " (e.g. nvidia-cudnn-cu"
              + runtime.split("\\.")[0]
              + ") or a CUDA "
              + built
              + " runtime");
    }
  }

  private static String deviceHint(int code, int driverVersion, String runtime) {
    if (driverVersion == 0) {
      return "no NVIDIA driver is installed or loaded (cudaDriverGetVersion reports 0): run on a"
          + " machine with an NVIDIA GPU and its driver";
    }
    return switch (code) {
      case CudaStatus.INSUFFICIENT_DRIVER ->
          "the driver supports CUDA "
              + CudaRuntimeProbe.version(driverVersion)
              + " but the runtime is "
              + runtime
              + ": upgrade the NVIDIA driver";
      case CudaStatus.NO_DEVICE ->
          "no CUDA device is visible: check nvidia-smi and CUDA_VISIBLE_DEVICES";
      case CudaStatus.INITIALIZATION_ERROR ->
          "CUDA could not initialise: check nvidia-smi and the kernel log (dmesg)";
      default -> "check nvidia-smi";
    };
  }
}
