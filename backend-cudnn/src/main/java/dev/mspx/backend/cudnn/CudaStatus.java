package dev.mspx.backend.cudnn;

import java.util.Map;

/**
 * A {@code cudaError_t} with its name and text. The name and text come from the runtime itself
 * ({@code cudaGetErrorName}, {@code cudaGetErrorString}) when it has them; {@link #KNOWN} covers
 * the codes a probe meets when it does not.
 */
record CudaStatus(int code, String name, String text) {

  /**
   * Codes a machine without a usable GPU returns, from the CUDA runtime API's {@code cudaError}.
   */
  static final Map<Integer, String[]> KNOWN =
      Map.of(
          0, new String[] {"cudaSuccess", "no error"},
          3, new String[] {"cudaErrorInitializationError", "initialization error"},
          34, new String[] {"cudaErrorStubLibrary", "CUDA driver is a stub library"},
          35,
              new String[] {
                "cudaErrorInsufficientDriver",
                "CUDA driver version is insufficient for CUDA runtime version"
              },
          46,
              new String[] {
                "cudaErrorDevicesUnavailable", "CUDA-capable device(s) is/are busy or unavailable"
              },
          100, new String[] {"cudaErrorNoDevice", "no CUDA-capable device is detected"},
          101, new String[] {"cudaErrorInvalidDevice", "invalid device ordinal"},
          803,
              new String[] {
                "cudaErrorSystemDriverMismatch",
                "system has unsupported display driver / cuda driver combination"
              },
          999, new String[] {"cudaErrorUnknown", "unknown error"});

  static final int SUCCESS = 0;
  static final int INITIALIZATION_ERROR = 3;
  static final int INSUFFICIENT_DRIVER = 35;
  static final int NO_DEVICE = 100;

  /** The status for {@code code} from the table alone. */
  static CudaStatus of(int code) {
    String[] known = KNOWN.get(code);
    return known == null
        ? new CudaStatus(code, "cudaError " + code, "no description known to mspx")
        : new CudaStatus(code, known[0], known[1]);
  }

  boolean ok() {
    return code == SUCCESS;
  }

  /**
   * {@code CUDA error 35 cudaErrorInsufficientDriver (CUDA driver version is insufficient ...)}.
   */
  String describe() {
    return "CUDA error " + code + " " + name + " (" + text + ")";
  }
}
