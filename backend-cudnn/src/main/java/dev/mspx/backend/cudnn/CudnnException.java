package dev.mspx.backend.cudnn;

/**
 * A cuDNN call returned an error. The message names the call and what it was for, the status by
 * number and {@code cudnnGetErrorString}, and the detail of {@code cudnnGetLastErrorString} (cuDNN 9
 * explains there which argument it refused and why).
 */
public final class CudnnException extends RuntimeException {

  private final String call;
  private final int status;
  private final String statusName;
  private final String lastError;

  CudnnException(String call, int status, String statusName, String lastError) {
    super(
        call
            + ": cuDNN status "
            + status
            + " "
            + statusName
            + (lastError.isBlank() ? "" : "; cuDNN says: " + lastError.strip()));
    this.call = call;
    this.status = status;
    this.statusName = statusName;
    this.lastError = lastError;
  }

  /** The call that failed, with what it was for. */
  public String call() {
    return call;
  }

  /** The {@code cudnnStatus_t}. */
  public int status() {
    return status;
  }

  /** {@code cudnnGetErrorString(status)}, e.g. {@code CUDNN_STATUS_BAD_PARAM}. */
  public String statusName() {
    return statusName;
  }

  /** {@code cudnnGetLastErrorString}: cuDNN's own account of the failure; may be empty. */
  public String lastError() {
    return lastError;
  }
}
