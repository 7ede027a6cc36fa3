package dev.mspx.api;

import java.util.List;

/**
 * Thrown when a backend, a workspace or a {@link HostMemory} is closed while tensors it allocated are
 * still open. The message names every one of them; the memory has been released all the same.
 */
public final class MemoryLeakException extends IllegalStateException {

  private final List<String> leaked;
  private final long bytes;

  public MemoryLeakException(String owner, List<String> leaked, long bytes) {
    super(
        owner
            + " closed with "
            + leaked.size()
            + " tensor(s), "
            + bytes
            + " bytes, still open: "
            + String.join(", ", leaked)
            + ". Close every tensor (try-with-resources) before its owner.");
    this.leaked = List.copyOf(leaked);
    this.bytes = bytes;
  }

  /** The leaked tensors, each as {@link Tensor#describe()}. */
  public List<String> leaked() {
    return leaked;
  }

  public long bytes() {
    return bytes;
  }
}
