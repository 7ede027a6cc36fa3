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

  @Override
  public long byteSize() {
    return block.byteSize();
  }

  @Override
  public Tensor view(long offset, Shape shape, DType dtype, String label) {
    long bytes = shape.elements() * dtype.byteSize();
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
