package dev.mspx.core;

/** A checkpoint cannot be written, read, or used for this model; the message says which and why. */
public final class CheckpointException extends RuntimeException {

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
