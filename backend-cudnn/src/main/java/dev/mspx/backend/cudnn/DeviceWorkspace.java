package dev.mspx.backend.cudnn;

import dev.mspx.api.DType;
import dev.mspx.api.MemoryOwner;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import dev.mspx.api.Workspace;

/**
 * One block of GPU memory from which tensor views are carved at aligned offsets: a plan's arena.
 * Views own nothing; they read as closed once the workspace is closed, so a stale view is rejected
 * by every op instead of touching freed memory.
 */
final class DeviceWorkspace implements Workspace {

  private final MemoryOwner owner;
  private final String label;
  private final long address;
  private final long bytes;
  private final Runnable release;
  private volatile boolean closed;

  DeviceWorkspace(MemoryOwner owner, String label, long address, long bytes, Runnable release) {
    this.owner = owner;
    this.label = label;
    this.address = address;
    this.bytes = bytes;
    this.release = release;
  }

  @Override
  public long byteSize() {
    return bytes;
  }

  String label() {
    return label;
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public Tensor view(long offset, Shape shape, DType dtype, String label) {
    if (closed) {
      throw new IllegalStateException("workspace " + this.label + " is closed: no view " + label + " of it");
    }
    long size = shape.elements() * dtype.byteSize();
    if (offset < 0 || offset % ALIGNMENT != 0) {
      throw new IllegalArgumentException(
          "workspace " + this.label + ": view " + label + " offset " + offset + " is not a multiple of "
              + ALIGNMENT);
    }
    if (offset + size > bytes) {
      throw new IllegalArgumentException(
          "workspace " + this.label + ": view " + label + " " + dtype + shape + " at offset " + offset
              + " ends at byte " + (offset + size) + ", past its " + bytes + " bytes");
    }
    return new DeviceTensor(shape, dtype, owner, label, address + offset, () -> {}, this::isClosed);
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      release.run();
    }
  }

  @Override
  public String toString() {
    return "DeviceWorkspace(" + label + ", " + bytes + " bytes" + (closed ? ", closed" : "") + ")";
  }
}
