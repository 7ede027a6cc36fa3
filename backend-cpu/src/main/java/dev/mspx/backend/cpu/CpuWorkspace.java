package dev.mspx.backend.cpu;

import dev.mspx.api.DType;
import dev.mspx.api.HostTensor;
import dev.mspx.api.MemoryOwner;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;

/** A workspace in host memory: one Arrow buffer whose slices are handed out as tensor views. */
final class CpuWorkspace implements Workspace {

  private final HostTensor block;
  private final MemoryOwner owner;

  CpuWorkspace(HostTensor block, MemoryOwner owner) {
    this.block = block;
    this.owner = owner;
  }

  /** Bytes per row of a block that does not fit one {@code int} dimension. */
  static final int ROW = 1 << 20;

  /**
   * The shape of a workspace block of {@code bytes} bytes. A {@link Shape} has {@code int}
   * dimensions, so a block over 2 GiB - 1 (a large batch's arena) is {@code [rows, 1 MiB]}, rounded
   * up to whole rows (under 1 MiB more than asked): before, {@code Math.toIntExact} threw an
   * integer overflow with a stack trace. Views into it are long offsets, as before.
   */
  static Shape blockShape(long bytes, String label) {
    if (bytes < 1) {
      throw new IllegalArgumentException("workspace " + label + ": size must be >= 1 byte, got " + bytes);
    }
    if (bytes <= Integer.MAX_VALUE) {
      return Shape.of((int) bytes);
    }
    long rows = (bytes + ROW - 1) / ROW;
    if (rows > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("workspace " + label + ": " + bytes + " bytes is beyond what a host buffer can address");
    }
    return Shape.of((int) rows, ROW);
  }

  /**
   * A workspace of {@code bytes} in {@code memory}; when the machine cannot give that much, the error
   * names the workspace and its size (in GB) and says to use a smaller batch.
   */
  static CpuWorkspace allocate(dev.mspx.api.HostMemory memory, long bytes, String label, MemoryOwner owner) {
    Shape shape = blockShape(bytes, label);
    try {
      return new CpuWorkspace(memory.allocate(shape, DType.UINT8, label, owner), owner);
    } catch (OutOfMemoryError | RuntimeException e) {
      if (e instanceof IllegalArgumentException || e instanceof IllegalStateException) {
        throw (RuntimeException) e;
      }
      throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
          "workspace %s: cannot allocate %.2f GB of host memory (%s): use a smaller batch", label, bytes / 1e9, e.getMessage()), e);
    }
  }

  @Override
  public long byteSize() {
    return block.byteSize();
  }

  @Override
  public Tensor view(long offset, Shape shape, DType dtype, String label) {
    long bytes = shape.elements() * dtype.byteSize();
    if (bytes > Integer.MAX_VALUE) {
      // The kernels may compute offsets inside one tensor with int: refuse rather than wrap around.
      throw new IllegalArgumentException("workspace " + block.label() + ": view " + label + " " + dtype + shape + " is " + bytes
          + " bytes, more than one CPU tensor may hold (2 GiB - 1): use a smaller batch");
    }
    if (offset < 0 || offset % ALIGNMENT != 0) {
      throw new IllegalArgumentException(
          "workspace " + block.label() + ": view " + label + " offset " + offset + " is not a multiple of " + ALIGNMENT);
    }
    if (offset + bytes > block.byteSize()) {
      throw new IllegalArgumentException(
          "workspace "
              + block.label()
              + ": view "
              + label
              + " "
              + dtype
              + shape
              + " at offset "
              + offset
              + " ends at byte "
              + (offset + bytes)
              + ", past its "
              + block.byteSize()
              + " bytes");
    }
    return HostTensor.view(block.segment().asSlice(offset, bytes), shape, dtype, owner, label);
  }

  @Override
  public void close() {
    block.close();
  }
}
