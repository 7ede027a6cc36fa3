package dev.mspx.api;

/** An op was called with tensors whose shapes, dtypes or owners do not fit it. */
public final class ShapeMismatchException extends IllegalArgumentException {

  public ShapeMismatchException(String message) {
    super(message);
  }
}
