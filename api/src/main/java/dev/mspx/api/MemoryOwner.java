package dev.mspx.api;

/** Something that owns tensor memory: a {@link Backend} or a {@link HostMemory}. */
public interface MemoryOwner {

  /** A short name for messages, e.g. {@code cpu-reference} or {@code host}. */
  String name();

  /** Bytes held by tensors and workspaces that are allocated and not yet closed. */
  long outstandingBytes();
}
