package dev.mspx.backend.cudnn;

/**
 * A CUDA runtime or driver call returned an error. The message names the call and what it was
 * for, the status by number and name, and CUDA's own description of it, e.g. {@code cudaMalloc(4194304
 * bytes for conv.y float32[32, 64, 28, 28]): CUDA error 2 cudaErrorMemoryAllocation (out of memory)}.
 */
public final class CudaException extends RuntimeException {

  /** Which CUDA API the status comes from: their codes overlap but mean different things. */
  public enum Api {
    RUNTIME,
    DRIVER
  }

  private final Api api;
  private final String call;
  private final int status;
  private final String statusName;
  private final String description;

  CudaException(Api api, String call, int status, String statusName, String description, String hint) {
    super(
        call
            + ": "
            + (api == Api.RUNTIME ? "CUDA error " : "CUDA driver error ")
            + status
            + " "
            + statusName
            + " ("
            + description
            + ")"
            + (hint.isEmpty() ? "" : "; " + hint));
    this.api = api;
    this.call = call;
    this.status = status;
    this.statusName = statusName;
    this.description = description;
  }

  public Api api() {
    return api;
  }

  /** The call that failed, with what it was for. */
  public String call() {
    return call;
  }

  /** The {@code cudaError_t} or {@code CUresult}. */
  public int status() {
    return status;
  }

  /** {@code cudaGetErrorName} / {@code cuGetErrorName}, e.g. {@code cudaErrorMemoryAllocation}. */
  public String statusName() {
    return statusName;
  }

  /** {@code cudaGetErrorString} / {@code cuGetErrorString}. */
  public String description() {
    return description;
  }
}
