package dev.mspx.backend.cudnn;

import dev.mspx.api.DType;
import dev.mspx.api.MemoryOwner;
import dev.mspx.api.Shape;
import dev.mspx.api.Tensor;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * A tensor in GPU memory: a device address and its shape. Opaque to the host (read it with {@code
 * copyToHost}). Either it owns its memory ({@code cudaMalloc}, released on close) or it is a view
 * into a {@link DeviceWorkspace}, which it then reports closed as soon as the workspace is.
 */
final class DeviceTensor implements Tensor {

  private final Shape shape;
  private final DType dtype;
  private final MemoryOwner owner;
  private final String label;
  private final long address;
  private final Runnable release;
  private final BooleanSupplier parentClosed;
  private volatile boolean closed;

  DeviceTensor(
      Shape shape,
      DType dtype,
      MemoryOwner owner,
      String label,
      long address,
      Runnable release,
      BooleanSupplier parentClosed) {
    this.shape = Objects.requireNonNull(shape, "shape");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.owner = Objects.requireNonNull(owner, "owner");
    this.label = Objects.requireNonNull(label, "label");
    this.address = address;
    this.release = release;
    this.parentClosed = parentClosed;
  }

  @Override
  public Shape shape() {
    return shape;
  }

  @Override
  public DType dtype() {
    return dtype;
  }

  @Override
  public MemoryOwner owner() {
    return owner;
  }

  @Override
  public String label() {
    return label;
  }

  /** The device address of element 0. */
  long address() {
    if (isClosed()) {
      throw new IllegalStateException(describe() + " is closed");
    }
    return address;
  }

  @Override
  public boolean isClosed() {
    return closed || parentClosed.getAsBoolean();
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
    return "DeviceTensor(" + describe() + (isClosed() ? ", closed" : "") + ")";
  }
}
