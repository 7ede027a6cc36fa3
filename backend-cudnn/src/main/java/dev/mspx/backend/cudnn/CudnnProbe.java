package dev.mspx.backend.cudnn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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

/**
 * Asks a loaded libcudnn for its version and the CUDA runtime it was built for, and checks that the
 * sub-libraries cuDNN 9 loads at first use are beside it.
 *
 * <p>Hand-written downcall handles on the candidate library's own {@link SymbolLookup}, not the
 * jextract bindings: the bindings resolve through the libraries loaded into the process, and a
 * candidate is only loaded into the process ({@link CudaDevice}) once these probes accept it.
 */
// Native access is this class's job; the JVM flags enable it (--enable-native-access).
@SuppressWarnings("restricted")
final class CudnnProbe {

  /** cuDNN 9 encodes versions as {@code 10000·major + 100·minor + patch}. */
  static final long MIN_VERSION = 90000;

  /**
   * The sub-libraries a convolution needs (cuDNN 9 split libcudnn into these; libcudnn_adv, for
   * RNNs and attention, is not needed here).
   */
  static final List<String> SUB_LIBRARIES =
      List.of(
          "libcudnn_graph",
          "libcudnn_ops",
          "libcudnn_cnn",
          "libcudnn_heuristic",
          "libcudnn_engines_precompiled",
          "libcudnn_engines_runtime_compiled");

  private static final Linker LINKER = Linker.nativeLinker();

  private CudnnProbe() {}

  /** {@code cudnnGetVersion()}, or empty when the library lacks it (then it is no cuDNN). */
  static Optional<Long> version(SymbolLookup cudnn) {
    return sizeT(cudnn, "cudnnGetVersion");
  }

  /** {@code cudnnGetCudartVersion()}: the CUDA runtime version cuDNN was built against. */
  static Optional<Long> cudartVersion(SymbolLookup cudnn) {
    return sizeT(cudnn, "cudnnGetCudartVersion");
  }

  /** {@code 90300} as {@code 9.3.0}. */
  static String version(long cudnnVersion) {
    return cudnnVersion / 10000 + "." + (cudnnVersion % 10000) / 100 + "." + cudnnVersion % 100;
  }

  /**
   * The sub-libraries ({@code libcudnn_cnn.so.9} …) that are in none of {@code dirs}. libcudnn
   * opens them by name when first used, so a partial install fails late; this finds it early.
   */
  static List<String> missingSubLibraries(long cudnnVersion, List<Path> dirs) {
    String suffix = ".so." + cudnnVersion / 10000;
    List<String> missing = new ArrayList<>();
    for (String sub : SUB_LIBRARIES) {
      String file = sub + suffix;
      if (dirs.stream().noneMatch(dir -> Files.exists(dir.resolve(file)))) {
        missing.add(file);
      }
    }
    return missing;
  }

  /**
   * cuDNN's own check of the sub-libraries a convolution needs: {@code cudnnGraphVersionCheck},
   * {@code cudnnOpsVersionCheck} and {@code cudnnCnnVersionCheck} load each one and compare its
   * version with libcudnn's. Returns one problem per failing check, named by cuDNN's status string;
   * needs no GPU.
   */
  static List<String> versionChecks(SymbolLookup cudnn) {
    List<String> problems = new ArrayList<>();
    for (String[] check :
        new String[][] {
          {"cudnnGraphVersionCheck", "libcudnn_graph"},
          {"cudnnOpsVersionCheck", "libcudnn_ops"},
          {"cudnnCnnVersionCheck", "libcudnn_cnn"}
        }) {
      Optional<MethodHandle> h =
          cudnn
              .find(check[0])
              .map(address -> LINKER.downcallHandle(address, FunctionDescriptor.of(JAVA_INT)));
      if (h.isEmpty()) {
        problems.add("libcudnn has no " + check[0] + ", so it is not cuDNN 9");
        continue;
      }
      int status;
      try {
        status = (int) h.get().invokeExact();
      } catch (Throwable t) {
        throw new IllegalStateException(check[0] + " failed to run: " + t, t);
      }
      if (status != 0) {
        problems.add(
            check[0] + " returned cuDNN status " + status + " " + statusName(cudnn, status) + " ("
                + check[1] + " is missing, does not load, or is another version than libcudnn)");
      }
    }
    return problems;
  }

  /** {@code cudnnGetErrorString(status)} from this library, or the number alone. */
  private static String statusName(SymbolLookup cudnn, int status) {
    Optional<MethodHandle> h =
        cudnn
            .find("cudnnGetErrorString")
            .map(address -> LINKER.downcallHandle(address, FunctionDescriptor.of(ADDRESS, JAVA_INT)));
    if (h.isEmpty()) {
      return "(no cudnnGetErrorString)";
    }
    try {
      MemorySegment s = (MemorySegment) h.get().invokeExact(status);
      return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
    } catch (Throwable t) {
      return "(cudnnGetErrorString failed: " + t + ")";
    }
  }

  private static Optional<Long> sizeT(SymbolLookup lib, String function) {
    Optional<MethodHandle> h =
        lib.find(function)
            .map(address -> LINKER.downcallHandle(address, FunctionDescriptor.of(JAVA_LONG)));
    if (h.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of((long) h.get().invokeExact());
    } catch (Throwable t) {
      throw new IllegalStateException(function + " failed to run: " + t, t);
    }
  }
}
