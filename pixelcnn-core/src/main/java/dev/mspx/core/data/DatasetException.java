package dev.mspx.core.data;

import java.nio.file.Path;

/**
 * Data that cannot be found, read or trusted. The message names the input, what was expected and
 * what to do; {@link #file()} is the file or folder to blame, for a command line that wants to
 * print it.
 */
public final class DatasetException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public DatasetException(Path file, String message) {
    super(message);
    this.file = file;
  }

  public DatasetException(Path file, String message, Throwable cause) {
    super(message, cause);
    this.file = file;
  }

  /** The file or folder the message is about; null when none. */
  public Path file() {
    return file;
  }
}
