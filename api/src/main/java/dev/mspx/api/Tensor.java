package dev.mspx.api;

/**
 * A dense tensor owned by a backend (or by {@link HostMemory}). A device backend's tensors are opaque
 * handles: read them with {@link Backend#copyToHost}. Host tensors ({@link HostTensor}) expose their
 * memory as a {@link java.lang.foreign.MemorySegment}.
 *
 * <p>Closing a tensor returns its memory to its owner; closing it twice is harmless. A view into a
 * {@link Workspace} owns no memory: closing it only marks it closed.
 */
public interface Tensor extends AutoCloseable {

  Shape shape();

  DType dtype();

  /** The backend or host memory that allocated this tensor. */
  MemoryOwner owner();

  /** A name for messages and leak reports, e.g. {@code base.layer3.vertical.weight}. */
  String label();

  default long byteSize() {
    return shape().elements() * dtype().byteSize();
  }

  boolean isClosed();

  @Override
  void close();

  /** {@code label float32[2, 3, 8, 8]}: how tensors are named in every message. */
  default String describe() {
    return label() + " " + dtype() + shape();
  }
}
