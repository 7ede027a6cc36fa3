package dev.mspx.backend.cudnn;

import dev.mspx.backend.cudnn.bindings.cuda_h;
import dev.mspx.backend.cudnn.bindings.cuda_runtime_api_h;
import dev.mspx.backend.cudnn.bindings.cudnn_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Supplier;

/**
 * Turns every status a CUDA runtime, driver or cuDNN call returns into a typed exception: {@link
 * CudaException} or {@link CudnnException}, named by the library's own error strings. Only valid
 * once the libraries are loaded ({@link CudaDevice}).
 */
// Reading C strings the libraries own needs MemorySegment.reinterpret.
@SuppressWarnings("restricted")
final class Status {

  /** CUDA_ERROR_UNSUPPORTED_PTX_VERSION: the driver is older than the PTX ISA. */
  static final int DRIVER_UNSUPPORTED_PTX_VERSION = 222;

  /** CUDA_ERROR_NO_BINARY_FOR_GPU: no code in the module for this GPU. */
  static final int DRIVER_NO_BINARY_FOR_GPU = 209;

  /** cudaErrorMemoryAllocation. */
  static final int OUT_OF_MEMORY = 2;

  private Status() {}

  /** Throws unless a CUDA runtime call succeeded. */
  static void cuda(int status, String call) {
    if (status != 0) {
      throw cudaError(status, call);
    }
  }

  static void cuda(int status, Supplier<String> call) {
    if (status != 0) {
      throw cudaError(status, call.get());
    }
  }

  /** Throws unless a CUDA driver API call succeeded. */
  static void driver(int status, String call) {
    if (status != 0) {
      throw driverError(status, call);
    }
  }

  static void driver(int status, Supplier<String> call) {
    if (status != 0) {
      throw driverError(status, call.get());
    }
  }

  /** Throws unless a cuDNN call succeeded. */
  static void cudnn(int status, String call) {
    if (status != 0) {
      throw cudnnError(status, call);
    }
  }

  static void cudnn(int status, Supplier<String> call) {
    if (status != 0) {
      throw cudnnError(status, call.get());
    }
  }

  static CudaException cudaError(int status, String call) {
    String name = string(cuda_runtime_api_h.cudaGetErrorName(status), "cudaError " + status);
    String text = string(cuda_runtime_api_h.cudaGetErrorString(status), "no description");
    // The runtime keeps a sticky "last error" too; reading it clears it for the next call.
    int ignored = cuda_runtime_api_h.cudaGetLastError();
    String hint =
        status == OUT_OF_MEMORY
            ? "the GPU is out of memory: use a smaller batch, or close tensors and workspaces no longer"
                + " needed"
            : "";
    return new CudaException(CudaException.Api.RUNTIME, call, status, name, text, hint);
  }

  static CudaException driverError(int status, String call) {
    String name;
    String text;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
      name =
          cuda_h.cuGetErrorName(status, out) == 0
              ? string(out.get(ValueLayout.ADDRESS, 0), "CUresult " + status)
              : "CUresult " + status;
      text =
          cuda_h.cuGetErrorString(status, out) == 0
              ? string(out.get(ValueLayout.ADDRESS, 0), "no description")
              : "no description";
    }
    String hint =
        switch (status) {
          case DRIVER_UNSUPPORTED_PTX_VERSION ->
              "the NVIDIA driver is older than the PTX of mspx's kernels (ISA 7.0, CUDA 11.0):"
                  + " upgrade the driver";
          case DRIVER_NO_BINARY_FOR_GPU ->
              "this GPU is older than the kernels' target (compute capability 7.5): use --backend"
                  + " cpu";
          default -> "";
        };
    return new CudaException(CudaException.Api.DRIVER, call, status, name, text, hint);
  }

  static CudnnException cudnnError(int status, String call) {
    String name = string(cudnn_h.cudnnGetErrorString(status), "cudnnStatus " + status);
    String last;
    try (Arena arena = Arena.ofConfined()) {
      long size = 4096;
      MemorySegment buffer = arena.allocate(size);
      cudnn_h.cudnnGetLastErrorString(buffer, size);
      last = buffer.getString(0);
    }
    return new CudnnException(call, status, name, last);
  }

  /** A C string the library owns, or {@code fallback} for NULL. */
  private static String string(MemorySegment s, String fallback) {
    return s.equals(MemorySegment.NULL) ? fallback : s.reinterpret(Long.MAX_VALUE).getString(0);
  }
}
