package dev.mspx.api;

/** A backend cannot start here; the message says why and what to do. */
public final class BackendUnavailableException extends RuntimeException {

  public BackendUnavailableException(String message) {
    super(message);
  }

  public BackendUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
