package dev.mspx.core;

/** Training produced a non-finite loss or gradient; the message names the step and the tensor. */
public final class TrainingDivergedException extends RuntimeException {

  public TrainingDivergedException(String message) {
    super(message);
  }
}
