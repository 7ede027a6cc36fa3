package dev.mspx.spark.nccl;

/** An NCCL call failed, or NCCL cannot be used here; the message says which call or why, and what to do. */
public final class NcclException extends RuntimeException {

  public NcclException(String message) {
    super(message);
  }

  public NcclException(String message, Throwable cause) {
    super(message, cause);
  }
}
